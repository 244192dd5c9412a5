"""Every read of tasks goes through task_list, which scopes it to the user.

`user` is anything with an integer `.id` (the request's light token user or a User row): only
`owner_id` is ever compared, so no query loads the user.
"""

from typing import Protocol

from django.db.models import QuerySet

from taskapi.tasks.errors import TaskNotFound
from taskapi.tasks.models import Task

# Largest id a BigAutoField holds; a larger path id cannot exist, and SQLite would overflow.
MAX_TASK_ID = 2**63 - 1


class HasId(Protocol):
    id: int


def task_list(*, user: HasId) -> QuerySet[Task]:
    return Task.objects.filter(owner_id=user.id)


def task_get(*, user: HasId, task_id: int) -> Task:
    if not 1 <= task_id <= MAX_TASK_ID:
        raise TaskNotFound()
    try:
        return task_list(user=user).get(pk=task_id)
    except Task.DoesNotExist:
        # 404 rather than 403: a 403 would confirm the id exists.
        raise TaskNotFound() from None
