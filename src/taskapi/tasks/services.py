"""Writes of tasks. Every UPDATE is conditional on the version it was computed from, so no
write is ever based on a stale read (no lost update), with or without If-Match.

Every write that changes what a client of the changes feed sees records it in the change log
(taskapi.sync) in the same transaction, after the row is written: see sync/models.py for why
that orders changes by commit.
"""

from collections.abc import Collection
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, F, Value, When
from django.utils import timezone

from taskapi.accounts.models import User
from taskapi.core.errors import FieldsInvalid, PreconditionFailed
from taskapi.core.purge import purge_in_batches
from taskapi.core.scoping import MAX_ID, HasId
from taskapi.sync.services import change_record
from taskapi.tasks import events
from taskapi.tasks.due import DUE_FIELDS, due_resolve
from taskapi.tasks.errors import TaskNotFound, TaskWriteConflict
from taskapi.tasks.labelling import labels_checked, task_labels_write
from taskapi.tasks.models import SYNC_KIND, Task
from taskapi.tasks.positions import Placement, placement_after, placement_last
from taskapi.tasks.selectors import (
    task_get,
    task_get_for_update,
    task_list,
    task_trash_list,
    task_trashed_get,
)
from taskapi.tasks.tree import descendants, placement_check, placement_refusal, subtree

# Without If-Match a write re-reads and retries when another one slipped in between; a task
# written this often by several clients at once gets a 409 rather than an endless loop.
MAX_WRITE_ATTEMPTS = 3
PURGE_BATCH_SIZE = 500
# Rows about to be renumbered first step out of the range positions use (±2**53): the unique
# indexes on positions are checked row by row within an UPDATE, not at its end.
RENUMBER_SHIFT = 2**60


class _Keep(Enum):
    PARENT = "keep"


# task_move without a parent_id: the task stays under its current parent.
KEEP_PARENT = _Keep.PARENT


def _changes_log(*, user: HasId, task_ids: list[int], deleted: bool = False) -> None:
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


def _update_event(*, was_completed: bool, completed: bool | None) -> str:
    if completed is None or completed == was_completed:
        return events.UPDATED
    return events.COMPLETED if completed else events.UNCOMPLETED


def _lock_owner(*, user: HasId) -> None:
    """Serialize the writes of one user that place tasks among siblings (create, move,
    restore) or walk a subtree (trash): two of them computing a position from the same
    neighbours would give two siblings the same one.

    FOR NO KEY UPDATE of the user's row: it conflicts with itself only, not with the FOR KEY
    SHARE that inserting a row referencing the user takes (a change record), so an unlocked
    write (PATCH) never waits for it. On SQLite write transactions are IMMEDIATE: they queue
    already, and the query is skipped.
    """
    if not connection.features.has_select_for_update:
        return
    list(
        User.objects.select_for_update(no_key=True).filter(pk=user.id).values_list("pk", flat=True)
    )


def _renumber(
    *, user: HasId, placement: Placement, placed_id: int | None, now: datetime
) -> list[int]:
    """Write a rebalance's new positions (two statements); returns the ids renumbered."""
    if not placement.renumbered:
        return []
    ids = list(placement.renumbered)
    tasks = task_list(user=user)
    stepping_aside = ids if placed_id is None else [*ids, placed_id]
    tasks.filter(pk__in=stepping_aside).update(position=F("position") + RENUMBER_SHIFT)
    tasks.filter(pk__in=ids).update(
        position=Case(
            *(
                When(pk=task_id, then=Value(position))
                for task_id, position in placement.renumbered.items()
            ),
            output_field=BigIntegerField(),
        ),
        version=F("version") + 1,
        updated_at=now,
    )
    return ids


@transaction.atomic
def task_create(*, user: HasId, data: dict[str, Any]) -> Task:
    """A new task, last among its siblings (under `data["parent_id"]`, or at the top level)."""
    data = dict(data)
    parent_id = data.pop("parent_id", None)
    _lock_owner(user=user)
    placement_check(user=user, parent_id=parent_id)
    now = timezone.now()
    fields = {name: value for name, value in data.items() if name != "labels"}
    label_ids = labels_checked(user=user, label_ids=data.get("labels", []))
    placement = placement_last(siblings=task_list(user=user).filter(parent_id=parent_id))
    renumbered = _renumber(user=user, placement=placement, placed_id=None, now=now)
    completed = bool(fields.get("completed", False))
    task = Task.objects.create(
        **{**fields, **due_resolve(current=None, changes=fields)},
        owner_id=user.id,
        parent_id=parent_id,
        position=placement.position,
        completed_at=now if completed else None,
        created_at=now,
        updated_at=now,
    )
    task_labels_write(task_id=task.pk, old=[], new=label_ids)
    _changes_log(user=user, task_ids=[task.pk, *renumbered])
    events.task_events_record(
        user=user, events={events.CREATED: [task.pk], events.UPDATED: renumbered}
    )
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
                _changes_log(user=user, task_ids=[task.pk])
                event = _update_event(
                    was_completed=task.completed, completed=values.get("completed")
                )
                events.task_events_record(user=user, events={event: [task.pk]})
        if written:
            for field, value in values.items():
                setattr(task, field, value)
            if label_ids is not None:
                task.label_ids = label_ids
            return task
        task = task_get(user=user, task_id=task.pk)  # changed or deleted since read: 404 if gone
    raise TaskWriteConflict()


def task_move(
    *,
    user: HasId,
    task_id: int,
    after_id: int | None,
    parent_id: int | Literal[_Keep.PARENT] | None = KEEP_PARENT,
    expected_versions: Collection[int] | None = None,
) -> Task:
    """POST /tasks/{id}/move/: place the task right after the sibling `after_id` (None: first)
    under `parent_id` (None: the top level; KEEP_PARENT: its current parent).

    One task row is written, unless the neighbours have no integer left between them: then a
    window of siblings is renumbered too (positions.py), each with a new version.
    """
    with transaction.atomic():
        _lock_owner(user=user)
        # Locked: a PATCH of this task waits, so the conditional UPDATE below cannot miss.
        task = task_get_for_update(user=user, task_id=task_id)
        task_ensure_version(task=task, expected_versions=expected_versions)
        target = task.parent_id if parent_id is KEEP_PARENT else parent_id
        if target is not None and target != task.parent_id:
            height = len(subtree(tasks=task_list(user=user), root_id=task.pk))
            placement_check(user=user, parent_id=target, height=height, moving_id=task.pk)
        siblings = task_list(user=user).filter(parent_id=target).exclude(pk=task.pk)
        after = None
        if after_id is not None:
            after = siblings.filter(pk=after_id).first() if 1 <= after_id <= MAX_ID else None
            if after is None:
                raise FieldsInvalid(
                    "No task with this id is a sibling there.",
                    field="after_id",
                    code="does_not_exist",
                )
        placement = placement_after(siblings=siblings, after=after)
        now = timezone.now()
        renumbered = _renumber(user=user, placement=placement, placed_id=task.pk, now=now)
        values = {
            "parent_id": target,
            "position": placement.position,
            "updated_at": now,
            "version": task.version + 1,
        }
        written = task_list(user=user).filter(pk=task.pk, version=task.version).update(**values)
        if not written:
            raise RuntimeError("a locked task changed under its lock")
        _changes_log(user=user, task_ids=[task.pk, *renumbered])
        events.task_events_record(user=user, events={events.UPDATED: [task.pk, *renumbered]})
    for field, value in values.items():
        setattr(task, field, value)
    return task


def task_trash(
    *, user: HasId, task_id: int, expected_versions: Collection[int] | None = None
) -> None:
    """DELETE /tasks/{id}/: move the task and its subtasks to the trash, with one `deleted_at`
    (what task_restore recognizes them by). Their versions (ETags) stay as they were."""
    if not 1 <= task_id <= MAX_ID:
        raise TaskNotFound()
    tasks = task_list(user=user).filter(pk=task_id)
    condition = tasks if expected_versions is None else tasks.filter(version__in=expected_versions)
    with transaction.atomic():
        # Locked: no task is moved or created under this subtree while it is being trashed.
        _lock_owner(user=user)
        now = timezone.now()
        trashed = condition.update(deleted_at=now)
        if trashed:
            below = descendants(subtree(tasks=task_list(user=user), root_id=task_id))
            if below:
                task_list(user=user).filter(pk__in=below).update(deleted_at=now)
            _changes_log(user=user, task_ids=[task_id, *below], deleted=True)
            events.task_events_record(user=user, events={events.DELETED: [task_id, *below]})
    if trashed:
        return
    if expected_versions is not None and tasks.exists():
        raise PreconditionFailed()
    raise TaskNotFound()


def task_restore(
    *, user: HasId, task_id: int, expected_versions: Collection[int] | None = None
) -> Task:
    """Bring a task back from the trash as it was, with a new version and `updated_at`, and
    the subtasks that were trashed with it (same `deleted_at`).

    It goes back under its parent when tree.py's rules allow it there; otherwise (the parent
    is not live, or has moved so deep that the subtree would nest too deep under it) it comes
    back at the top level. Where a live sibling took its position meanwhile, it comes back last
    among its siblings.
    """
    for _attempt in range(MAX_WRITE_ATTEMPTS):
        with transaction.atomic():
            _lock_owner(user=user)
            task = task_trashed_get(user=user, task_id=task_id)  # 404 unless in the trash
            task_ensure_version(task=task, expected_versions=expected_versions)
            now = timezone.now()
            trash = task_trash_list(user=user)
            trashed_with_it = trash.filter(deleted_at=task.deleted_at)
            levels = subtree(tasks=trashed_with_it, root_id=task_id)
            parent_id = task.parent_id
            if placement_refusal(user=user, parent_id=parent_id, height=len(levels)) is not None:
                parent_id = None
            siblings = task_list(user=user).filter(parent_id=parent_id)
            position, renumbered = task.position, []
            if parent_id != task.parent_id or siblings.filter(position=position).exists():
                placement = placement_last(siblings=siblings)
                renumbered = _renumber(user=user, placement=placement, placed_id=None, now=now)
                position = placement.position
            restored = trash.filter(pk=task_id, version=task.version).update(
                deleted_at=None,
                parent_id=parent_id,
                position=position,
                updated_at=now,
                version=F("version") + 1,
            )
            if restored:
                below = descendants(levels)
                if below:
                    trashed_with_it.filter(pk__in=below).update(
                        deleted_at=None, updated_at=now, version=F("version") + 1
                    )
                _changes_log(user=user, task_ids=[task_id, *below, *renumbered])
                events.task_events_record(
                    user=user,
                    events={events.RESTORED: [task_id, *below], events.UPDATED: renumbered},
                )
        if restored:
            task.deleted_at, task.updated_at, task.version = None, now, task.version + 1
            task.parent_id, task.position = parent_id, position
            return task
    raise TaskWriteConflict()


def task_erase(*, user: HasId, task_id: int) -> None:
    """Erase a task in the trash for good, and its subtasks (all in the trash too: a live task's
    parent is live).

    Nothing is recorded: the change log already lists the tasks as deleted since they were
    trashed.
    """
    if not 1 <= task_id <= MAX_ID:
        raise TaskNotFound()
    with transaction.atomic():
        # Subtasks point at their parent and label links at the task (ON DELETE CASCADE, done
        # by Django), so the deletion selects the task and its subtree level by level, then
        # deletes by id: a few statements, not one. Locked, so no restore (or move) of this
        # user commits between that read and the DELETE: it would be erased while the change
        # log lists it as live.
        _lock_owner(user=user)
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
    return purge_in_batches(
        expired, oldest_first="deleted_at", batch_size=batch_size, lock_batch=_lock_owners_of
    )


def _lock_owners_of(task_ids: list[int]) -> None:
    """The owner locks of task_erase, for a purge batch across users: taken in id order, so two
    purges never wait on each other in a cycle (a request takes one user's lock only)."""
    if not connection.features.has_select_for_update:
        return
    owners = Task.objects.filter(pk__in=task_ids).values("owner_id")
    locked = User.objects.select_for_update(no_key=True).filter(pk__in=owners).order_by("pk")
    list(locked.values_list("pk", flat=True))
