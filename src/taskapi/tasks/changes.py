"""GET /tasks/changes/: pages of the change log (taskapi.sync), rendered as tasks.

Two queries a page: the log's range after the token's position, then the live tasks among the
ids it named. The second query may see newer states than the first (both run in autocommit):
a task changed again since is shown in its newer form, and one deleted since is listed as
deleted. Either way its newer change also comes later in the log, so the client's copy only
ever moves forward and converges.
"""

from dataclasses import dataclass

from taskapi.core.scoping import HasId
from taskapi.sync.selectors import change_page
from taskapi.sync.tokens import START, sync_token_issue, sync_token_read
from taskapi.tasks.models import SYNC_KIND, Task
from taskapi.tasks.selectors import task_list

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class TaskChanges:
    tasks: list[Task]
    deleted: list[int]
    sync_token: str
    has_more: bool


def task_changes(*, user: HasId, sync_token: str | None, limit: int) -> TaskChanges:
    """Raises SyncTokenInvalid (not this user's, or garbled) and SyncTokenExpired (too old)."""
    after = START if sync_token is None else sync_token_read(owner_id=user.id, token=sync_token)
    page = change_page(owner_id=user.id, kind=SYNC_KIND, after=after, limit=limit)
    live: dict[int, Task] = {}
    if page.changed_ids:
        live = {task.pk: task for task in task_list(user=user).filter(pk__in=page.changed_ids)}
    return TaskChanges(
        tasks=[live[task_id] for task_id in page.changed_ids if task_id in live],
        deleted=[
            *page.deleted_ids,
            *(task_id for task_id in page.changed_ids if task_id not in live),
        ],
        # A fresh token even when nothing changed: a client that polls never sees it expire.
        sync_token=sync_token_issue(owner_id=user.id, position=page.position),
        has_more=page.has_more,
    )
