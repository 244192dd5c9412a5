"""The events of tasks (taskapi.core.events), for listeners such as webhooks.

Called by the services inside their transaction, after the change and its change record. The
tasks are read back once, in their committed-to-be form, and rendered as the API shows them
(GET /tasks/{id}/; a trashed task as GET /tasks/trash/ does), only if a listener wants the type.
"""

from collections.abc import Collection

from taskapi.core.events import events_record, events_wanted
from taskapi.core.scoping import HasId
from taskapi.tasks.selectors import task_list, task_trash_list
from taskapi.tasks.serializers import TaskOut, TrashedTaskOut

CREATED = "task.created"
UPDATED = "task.updated"
COMPLETED = "task.completed"
UNCOMPLETED = "task.uncompleted"
DELETED = "task.deleted"  # moved to the trash
RESTORED = "task.restored"

Renderer = type[TaskOut]  # (the loop below names its event type `type`)


def task_events_record(*, user: HasId, events: dict[str, Collection[int]]) -> None:
    """Record, for each event type, its tasks (ids); a task listed twice gets its first type."""
    wanted = events_wanted(owner_id=user.id)
    seen: set[int] = set()
    for type, task_ids in events.items():
        ids = [task_id for task_id in task_ids if task_id not in seen]
        seen.update(ids)
        if type not in wanted.types or not ids:
            continue
        render: Renderer
        if type == DELETED:
            tasks, render = task_trash_list(user=user), TrashedTaskOut
        else:
            tasks, render = task_list(user=user), TaskOut
        objects = [(task.pk, render(task).data) for task in tasks.filter(pk__in=ids).order_by("pk")]
        events_record(wanted=wanted, type=type, objects=objects)
