"""Writes of tasks. Every UPDATE is conditional on the version it was computed from, so no
write is ever based on a stale read (no lost update), with or without If-Match.

Every write that changes what a client of the changes feed sees records it in the change log
(taskapi.sync) in the same transaction, after the row is written: see sync/models.py for why
that orders changes by commit.
"""

from collections.abc import Collection
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from taskapi.core.errors import PreconditionFailed
from taskapi.core.purge import purge_in_batches
from taskapi.sync.services import change_record
from taskapi.tasks.due import DUE_FIELDS, due_resolve
from taskapi.tasks.errors import TaskNotFound, TaskWriteConflict
from taskapi.tasks.labelling import labels_checked, task_labels_write
from taskapi.tasks.models import SYNC_KIND, Task
from taskapi.tasks.selectors import (
    MAX_TASK_ID,
    HasId,
    task_get,
    task_list,
    task_trash_list,
    task_trashed_get,
)

# Without If-Match a write re-reads and retries when another one slipped in between; a task
# written this often by several clients at once gets a 409 rather than an endless loop.
MAX_WRITE_ATTEMPTS = 3
PURGE_BATCH_SIZE = 500


def _record(*, user: HasId, task_ids: list[int], deleted: bool = False) -> None:
    change_record(owner_id=user.id, kind=SYNC_KIND, object_ids=task_ids, deleted=deleted)


def _touches_due(changes: dict[str, Any]) -> bool:
    return any(field in changes for field in DUE_FIELDS)


def _completed_at(
    *, was_completed: bool, completed: bool, current: datetime | None, now: datetime
) -> datetime | None:
    if not completed:
        return None
    if was_completed:
        return current
    return now


@transaction.atomic
def task_create(*, user: HasId, data: dict[str, Any]) -> Task:
    now = timezone.now()
    fields = {name: value for name, value in data.items() if name != "labels"}
    label_ids = labels_checked(user=user, label_ids=data.get("labels", []))
    completed = bool(fields.get("completed", False))
    task = Task.objects.create(
        **{**fields, **due_resolve(current=None, changes=fields)},
        owner_id=user.id,
        completed_at=now if completed else None,
        created_at=now,
        updated_at=now,
    )
    task_labels_write(task_id=task.pk, old=[], new=label_ids)
    _record(user=user, task_ids=[task.pk])
    task.label_ids = label_ids
    return task


def task_ensure_version(*, task: Task, expected_versions: Collection[int] | None) -> None:
    """412 unless the task's version is one If-Match accepts (None: any existing task)."""
    if expected_versions is not None and task.version not in expected_versions:
        raise PreconditionFailed()


def task_update(
    *,
    user: HasId,
    task: Task,
    changes: dict[str, Any],
    expected_versions: Collection[int] | None = None,
) -> Task:
    """Apply `changes` (all writable fields for PUT, some for PATCH) to `task`, as read.

    The write is one `UPDATE ... WHERE id AND owner_id AND version`: the check and the write
    cannot be separated by another writer. With If-Match a lost race is a 412; without it, the
    changes are applied again to a fresh read, so a concurrent change to other fields survives.
    """
    for _attempt in range(MAX_WRITE_ATTEMPTS):
        task_ensure_version(task=task, expected_versions=expected_versions)
        if not changes:
            return task  # an empty PATCH changes nothing, the version included
        now = timezone.now()
        # `labels` is a set of link rows, not a column of the task's row.
        label_ids = changes.get("labels")
        row_changes = {name: value for name, value in changes.items() if name != "labels"}
        values = {
            **row_changes,
            # Resolved against this read of the task, so a retry after a lost race checks
            # the rules again on what the other writer left (a due_date it just set, say).
            **(due_resolve(current=task, changes=row_changes) if _touches_due(row_changes) else {}),
            "completed_at": _completed_at(
                was_completed=task.completed,
                completed=changes.get("completed", task.completed),
                current=task.completed_at,
                now=now,
            ),
            "updated_at": now,
            "version": task.version + 1,
        }
        with transaction.atomic():
            if label_ids is not None:
                label_ids = labels_checked(user=user, label_ids=label_ids)
            written = task_list(user=user).filter(pk=task.pk, version=task.version).update(**values)
            if written:
                if label_ids is not None:
                    task_labels_write(task_id=task.pk, old=task.label_ids, new=label_ids)
                _record(user=user, task_ids=[task.pk])
        if written:
            for field, value in values.items():
                setattr(task, field, value)
            if label_ids is not None:
                task.label_ids = label_ids
            return task
        task = task_get(user=user, task_id=task.pk)  # changed or deleted since read: 404 if gone
    raise TaskWriteConflict()


def task_trash(
    *, user: HasId, task_id: int, expected_versions: Collection[int] | None = None
) -> None:
    """DELETE /tasks/{id}/: move the task to the trash. Its version (ETag) stays as it was."""
    if not 1 <= task_id <= MAX_TASK_ID:
        raise TaskNotFound()
    tasks = task_list(user=user).filter(pk=task_id)
    condition = tasks if expected_versions is None else tasks.filter(version__in=expected_versions)
    with transaction.atomic():
        trashed = condition.update(deleted_at=timezone.now())
        if trashed:
            _record(user=user, task_ids=[task_id], deleted=True)
    if trashed:
        return
    if expected_versions is not None and tasks.exists():
        raise PreconditionFailed()
    raise TaskNotFound()


def task_restore(
    *, user: HasId, task_id: int, expected_versions: Collection[int] | None = None
) -> Task:
    """Bring a task back from the trash as it was, with a new version and `updated_at`."""
    for _attempt in range(MAX_WRITE_ATTEMPTS):
        task = task_trashed_get(user=user, task_id=task_id)  # 404 unless in the trash
        task_ensure_version(task=task, expected_versions=expected_versions)
        now = timezone.now()
        with transaction.atomic():
            restored = (
                task_trash_list(user=user)
                .filter(pk=task_id, version=task.version)
                .update(deleted_at=None, updated_at=now, version=F("version") + 1)
            )
            if restored:
                _record(user=user, task_ids=[task_id])
        if restored:
            task.deleted_at, task.updated_at, task.version = None, now, task.version + 1
            return task
    raise TaskWriteConflict()


def task_erase(*, user: HasId, task_id: int) -> None:
    """Erase a task in the trash for good.

    Nothing is recorded: the change log already lists the task as deleted since it was trashed.
    """
    if not 1 <= task_id <= MAX_TASK_ID:
        raise TaskNotFound()
    # Its label links go with it (the collector deletes them first).
    erased, _ = task_trash_list(user=user).filter(pk=task_id).delete()
    if not erased:
        raise TaskNotFound()


def trash_expired_before() -> datetime:
    return timezone.now() - settings.TRASH_RETENTION


def trash_purge(*, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Erase tasks that have been in the trash longer than TRASH_RETENTION; returns how many.

    Across users on purpose: this is the one write that is not scoped to a user. The change log
    already lists these tasks as deleted.
    """
    expired = Task.objects.filter(deleted_at__lt=trash_expired_before())
    return purge_in_batches(expired, oldest_first="deleted_at", batch_size=batch_size)
