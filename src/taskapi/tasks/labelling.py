"""The labels on tasks: checking that ids are the user's labels, writing a task's set of
labels, and taking a deleted label off its tasks. Labels live in taskapi.labels; the link rows
(TaskLabel) are the tasks app's, so only this module writes them."""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone

from taskapi.core.errors import FieldsInvalid
from taskapi.core.scoping import HasId
from taskapi.labels.models import Label
from taskapi.labels.selectors import label_ids_owned
from taskapi.labels.signals import label_deleting
from taskapi.projects.selectors import readers_locked
from taskapi.sync.services import Entry, changes_record
from taskapi.tasks import events
from taskapi.tasks.models import SYNC_KIND, Task, TaskLabel


class UnknownLabel(FieldsInvalid):
    # One message for "missing" and "someone else's", without the id: the answer must not
    # depend on whose id it was (the isolation check compares bodies byte for byte).
    field = "labels"
    code = "does_not_exist"
    message = "Each label id must be one of your labels."


def labels_checked(*, user: HasId, label_ids: Iterable[int]) -> list[int]:
    """The distinct label ids, sorted, if all are the user's labels; else a 400 on `labels`."""
    wanted = sorted(set(label_ids))
    if wanted and len(label_ids_owned(user=user, label_ids=wanted)) != len(wanted):
        raise UnknownLabel()
    return wanted


def task_labels_write(*, task_id: int, old: list[int], new: list[int]) -> None:
    """Change the task's labels from `old` to `new`, writing only the links that differ.

    Inside the transaction that writes the task, after its version-conditional UPDATE: that the
    UPDATE matched proves `old` is current (every change of labels bumps the version). The
    labels in `new` were locked by labels_checked, so none can be deleted meanwhile.
    """
    removed, added = set(old) - set(new), sorted(set(new) - set(old))
    if removed:
        TaskLabel.objects.filter(task_id=task_id, label_id__in=removed).delete()
    if added:
        TaskLabel.objects.bulk_create(
            [TaskLabel(task_id=task_id, label_id=label_id) for label_id in added]
        )


@receiver(label_deleting, sender=Label, dispatch_uid="tasks.labelling.label_deleting")
def _take_label_off_tasks(sender: type[Label], *, owner_id: int, label_id: int, **_: Any) -> None:
    """Its tasks change (their `labels` lose it): new version and `updated_at`, and a change
    record for those not in the trash (trashed ones are recorded as restored, if ever), for
    every member of their projects (the version is every member's ETag)."""
    labelled = Task.objects.filter(label_links__label_id=label_id)
    # Joins and subqueries rather than lists of ids: a label may be on very many tasks.
    changed = labelled.update(version=F("version") + 1, updated_at=timezone.now())
    # Read after the UPDATE, which holds the tasks' rows until the commit: a task trashed
    # between a read before it and the record would be recorded live after its deletion.
    live = list(labelled.filter(deleted_at__isnull=True).values_list("pk", "project_id"))
    # The links go now, not with the label's row after this: the events below render the tasks
    # as GET returns them once this commits, without the label.
    TaskLabel.objects.filter(label_id=label_id).delete()
    if not (changed and live):
        return
    by_project: dict[int, list[int]] = defaultdict(list)
    for task_id, project_id in live:
        by_project[project_id].append(task_id)
    changes_record(
        kind=SYNC_KIND,
        entries=[
            Entry(readers_locked(project_id=project_id), task_ids)
            for project_id, task_ids in by_project.items()
        ],
    )
    for project_id, task_ids in by_project.items():
        events.task_events_record(project_id=project_id, events={events.UPDATED: task_ids})
