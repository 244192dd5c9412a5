"""The events of tasks (taskapi.core.events), for listeners such as webhooks.

Called by the services inside their transaction, after the change and its change record. Every
member of the task's project at that moment is a reader: for each one whose listeners want the
type, the tasks are read back in their committed-to-be form and rendered as the API shows them
to that member (GET /tasks/{id}/; a trashed task as GET /tasks/trash/ does). A user who is not a
member when the event happens gets nothing.
"""

from collections.abc import Collection

from taskapi.core.events import events_record, events_wanted
from taskapi.projects.selectors import member_ids
from taskapi.tasks.selectors import Owner, task_list, task_project_trash
from taskapi.tasks.serializers import TaskOut, TrashedTaskOut

CREATED = "task.created"
UPDATED = "task.updated"
COMPLETED = "task.completed"
UNCOMPLETED = "task.uncompleted"
DELETED = "task.deleted"  # moved to the trash
RESTORED = "task.restored"

Renderer = type[TaskOut]  # (the loop below names its event type `type`)


def task_events_record(
    *,
    project_id: int,
    events: dict[str, Collection[int]],
    readers: Collection[int] | None = None,
    except_ids: Collection[int] = (),
) -> None:
    """Record, for each event type, its tasks (ids) of one project, for every member whose
    listeners want the type, each rendered as that member sees it (their own labels); a task
    listed twice gets its first type."""
    if readers is None:  # the members, unless the caller just read them for the change log
        readers = member_ids(project_id=project_id)
    for wanted in events_wanted(owner_ids=[r for r in readers if r not in except_ids]):
        reader = Owner(wanted.owner_id)
        seen: set[int] = set()
        for type, task_ids in events.items():
            ids = [task_id for task_id in task_ids if task_id not in seen]
            seen.update(ids)
            if type not in wanted.types or not ids:
                continue
            render: Renderer
            if type == DELETED:
                tasks, render = (
                    task_project_trash(project_id=project_id, reader=reader),
                    TrashedTaskOut,
                )
            else:
                tasks, render = task_list(user=reader), TaskOut
            objects = [
                (task.pk, render(task).data) for task in tasks.filter(pk__in=ids).order_by("pk")
            ]
            events_record(wanted=wanted, type=type, objects=objects)
