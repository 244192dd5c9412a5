"""Every read of tasks goes through task_list (live tasks) or task_trash_list (the trash),
which scope it to the user.

`user` is anything with an integer `.id` (the request's light token user or a User row): only
`owner_id` is ever compared, so no query loads the user.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db.models import Aggregate, CharField, OuterRef, QuerySet, Subquery

from taskapi.core.compiled import CompiledRead
from taskapi.core.scoping import HasId, id_check, scoped_get
from taskapi.tasks.errors import TaskNotFound
from taskapi.tasks.models import Task, TaskLabel


@dataclass
class Owner:
    """A HasId for code that knows only the owner's id (a signal, a compiled read)."""

    id: int


class _IdList(Aggregate):
    """A group's ids as text ("3,7"), in no particular order: GROUP_CONCAT on SQLite,
    STRING_AGG on PostgreSQL."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s((%(expressions)s)::text, ',')",
            **extra_context,
        )


@cache
def _label_ids() -> Subquery:
    """Built once: the same for every user, and annotate() resolves a copy of it each time
    (building it anew cost 6 % of a single read's CPU, bench/README.md)."""
    ids = (
        TaskLabel.objects.filter(task_id=OuterRef("pk"))
        .values("task_id")
        .annotate(ids=_IdList("label_id"))
        .values("ids")
    )
    return Subquery(ids)


def _with_label_ids(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Each task with its label ids (`label_ids_text`, read by Task.label_ids), in the
    same statement: a correlated subquery on the (task, label) index, not a query per page.
    UPDATE and DELETE querysets drop it (Django clears annotations there)."""
    return tasks.annotate(label_ids_text=_label_ids())


def task_list(*, user: HasId) -> QuerySet[Task]:
    """The user's tasks, without those in the trash."""
    return _with_label_ids(Task.objects.filter(owner_id=user.id, deleted_at__isnull=True))


def task_trash_list(*, user: HasId) -> QuerySet[Task]:
    return _with_label_ids(Task.objects.filter(owner_id=user.id, deleted_at__isnull=False))


def task_get(*, user: HasId, task_id: int) -> Task:
    return scoped_get(task_list(user=user), object_id=task_id, not_found=TaskNotFound)


def task_values_get(*, user: HasId, task_id: int, columns: Sequence[str]) -> dict[str, Any]:
    """task_get as a row of `columns` (QuerySet.values()), rendered without a model instance.
    Its SQL is compiled once per connection (core.compiled): the read of a single task is the
    API's most frequent, and building the QuerySet cost more than running it."""
    id_check(task_id, not_found=TaskNotFound)
    rows = _task_row_read(tuple(columns)).rows(owner_id=user.id, task_id=task_id)
    if not rows:
        raise TaskNotFound()
    return rows[0]


@cache
def _task_row_read(columns: tuple[str, ...]) -> CompiledRead:
    def build(*, owner_id: int, task_id: int) -> QuerySet[Task, dict[str, Any]]:
        # The plugin cannot type values() of names it does not see as literals.
        rows: QuerySet[Task, dict[str, Any]] = (
            task_list(user=Owner(owner_id)).filter(pk=task_id).values(*columns)
        )
        return rows

    return CompiledRead(build, "owner_id", "task_id")


def task_get_for_update(*, user: HasId, task_id: int) -> Task:
    """task_get, locking the row until the transaction ends (a no-op on SQLite, whose write
    transactions are serialized anyway)."""
    tasks = task_list(user=user).select_for_update(no_key=True)
    return scoped_get(tasks, object_id=task_id, not_found=TaskNotFound)


def task_trashed_get(*, user: HasId, task_id: int) -> Task:
    return scoped_get(task_trash_list(user=user), object_id=task_id, not_found=TaskNotFound)
