"""Who sees a project's tasks changes with its membership: the changes feed and the assignees
follow (taskapi.projects.signals), in the transaction that changes it.

- A member who joins gets every live task of the project in their next sync.
- A member who leaves, is removed or whose account goes: the project's tasks are listed as
  deleted in their feed, and the tasks assigned to them there are unassigned (a change every
  remaining member sees).
- A project erased: its tasks are listed as deleted in every member's feed.

Each record is written under the readers' counters in the same transaction (sync/models.py), so
"never misses a change" holds across joins and departures as it does for writes.
"""

from typing import Any

from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone

from taskapi.projects.models import Project
from taskapi.projects.selectors import member_ids
from taskapi.projects.signals import member_joined, member_leaving, project_deleting
from taskapi.sync.services import Entry, change_record, changes_record
from taskapi.tasks import events
from taskapi.tasks.models import SYNC_KIND, Task


@receiver(member_joined, sender=Project, dispatch_uid="tasks.membership.joined")
def _joined(sender: type[Project], *, project_id: int, user_id: int, **_: Any) -> None:
    live = list(
        Task.objects.filter(project_id=project_id, deleted_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    if live:
        change_record(reader_ids=[user_id], kind=SYNC_KIND, object_ids=live)


@receiver(member_leaving, sender=Project, dispatch_uid="tasks.membership.leaving")
def _leaving(sender: type[Project], *, project_id: int, user_id: int, **_: Any) -> None:
    tasks = Task.objects.filter(project_id=project_id)
    assigned = tasks.filter(assignee_id=user_id)
    unassigned = list(assigned.filter(deleted_at__isnull=True).values_list("pk", flat=True))
    assigned.update(assignee_id=None, version=F("version") + 1, updated_at=timezone.now())
    all_ids = list(tasks.values_list("pk", flat=True))
    staying = [member for member in member_ids(project_id=project_id) if member != user_id]
    entries = []
    if all_ids:
        entries.append(Entry([user_id], all_ids, deleted=True))
    if unassigned and staying:
        entries.append(Entry(staying, unassigned))
    if entries:
        changes_record(kind=SYNC_KIND, entries=entries)
    if unassigned:
        events.task_events_record(
            project_id=project_id, events={events.UPDATED: unassigned}, except_ids={user_id}
        )


@receiver(project_deleting, sender=Project, dispatch_uid="tasks.membership.project_deleting")
def _project_deleting(sender: type[Project], *, project_id: int, **_: Any) -> None:
    all_ids = list(Task.objects.filter(project_id=project_id).values_list("pk", flat=True))
    if all_ids:
        change_record(
            reader_ids=member_ids(project_id=project_id),
            kind=SYNC_KIND,
            object_ids=all_ids,
            deleted=True,
        )
