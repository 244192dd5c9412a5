"""Writes of tasks. Every UPDATE is conditional on the version it was computed from, so no
write is ever based on a stale read (no lost update), with or without If-Match."""

from collections.abc import Collection
from datetime import datetime
from typing import Any

from django.utils import timezone

from taskapi.core.errors import PreconditionFailed
from taskapi.tasks.errors import TaskNotFound, TaskWriteConflict
from taskapi.tasks.models import Task
from taskapi.tasks.selectors import MAX_TASK_ID, HasId, task_get, task_list

# Without If-Match a write re-reads and retries when another one slipped in between; a task
# written this often by several clients at once gets a 409 rather than an endless loop.
MAX_WRITE_ATTEMPTS = 3


def _completed_at(
    *, was_completed: bool, completed: bool, current: datetime | None, now: datetime
) -> datetime | None:
    if not completed:
        return None
    if was_completed:
        return current
    return now


def task_create(*, user: HasId, data: dict[str, Any]) -> Task:
    now = timezone.now()
    completed = bool(data.get("completed", False))
    return Task.objects.create(
        **data,
        owner_id=user.id,
        completed_at=now if completed else None,
        created_at=now,
        updated_at=now,
    )


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
        values = {
            **changes,
            "completed_at": _completed_at(
                was_completed=task.completed,
                completed=changes.get("completed", task.completed),
                current=task.completed_at,
                now=now,
            ),
            "updated_at": now,
            "version": task.version + 1,
        }
        written = task_list(user=user).filter(pk=task.pk, version=task.version).update(**values)
        if written:
            for field, value in values.items():
                setattr(task, field, value)
            return task
        task = task_get(user=user, task_id=task.pk)  # changed or deleted since read: 404 if gone
    raise TaskWriteConflict()


def task_delete(
    *, user: HasId, task_id: int, expected_versions: Collection[int] | None = None
) -> None:
    if not 1 <= task_id <= MAX_TASK_ID:
        raise TaskNotFound()
    tasks = task_list(user=user).filter(pk=task_id)
    condition = tasks if expected_versions is None else tasks.filter(version__in=expected_versions)
    # Nothing points at a task, so this is one DELETE statement, not a select-then-delete.
    deleted, _ = condition.delete()
    if deleted:
        return
    if expected_versions is not None and tasks.exists():
        raise PreconditionFailed()
    raise TaskNotFound()
