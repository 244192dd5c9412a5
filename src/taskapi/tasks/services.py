"""Writes of tasks. Every UPDATE is conditional on the version it was computed from, so no
write is ever based on a stale read (no lost update), with or without If-Match.

Every write that changes what a client of the changes feed sees records it in the change log
(taskapi.sync) in the same transaction, after the row is written, for every member of the task's
project: see sync/models.py for why that orders changes by commit.

Who may write is the policy's to say (taskapi.projects.policy): every service asks it for the
project it writes in, after finding the task among those the user can see (a non-member's 404).
"""

from collections.abc import Collection
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, F, Value, When
from django.utils import timezone

from taskapi.core.errors import FieldsInvalid, PreconditionFailed
from taskapi.core.purge import purge_in_batches
from taskapi.core.scoping import MAX_ID, HasId
from taskapi.projects import policy
from taskapi.projects.models import Project
from taskapi.projects.selectors import inbox_id, is_member, member_ids, readers_locked
from taskapi.sync.services import Entry, change_record, changes_record
from taskapi.tasks import events
from taskapi.tasks.due import DUE_FIELDS, due_resolve
from taskapi.tasks.errors import AssigneeUnknown, ProjectUnknown, TaskNotFound, TaskWriteConflict
from taskapi.tasks.labelling import labels_checked, task_labels_write
from taskapi.tasks.models import SYNC_KIND, Task
from taskapi.tasks.positions import Placement, placement_after, placement_last
from taskapi.tasks.selectors import (
    project_tasks,
    task_get,
    task_get_for_update,
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


def _changes_log(
    *,
    project_id: int,
    task_ids: list[int],
    deleted: bool = False,
    readers: list[int] | None = None,
) -> list[int]:
    """Record the tasks as changed (or deleted) for every member of their project: `readers`,
    when the caller read them with readers_locked, else read here (the caller holds the
    project's lock already: _lock_projects). Returns the readers, whom the events go to."""
    if readers is None:
        readers = member_ids(project_id=project_id)
    change_record(reader_ids=readers, kind=SYNC_KIND, object_ids=task_ids, deleted=deleted)
    return readers


def _project_in_range(project_id: int) -> int:
    if not 1 <= project_id <= MAX_ID:
        raise ProjectUnknown()
    return project_id


def _project_for_write(*, user: HasId, project_id: int) -> int:
    """A project named in a body (create, move): one the user may write tasks in. One they
    cannot see is refused like a missing one (400 on project_id); a viewer's is a 403."""
    if not 1 <= project_id <= MAX_ID:
        raise ProjectUnknown()
    policy.require(
        user=user, project_id=project_id, permission=policy.TASK_WRITE, not_found=ProjectUnknown
    )
    return project_id


def _assignee_check(*, project_id: int, assignee_id: int | None) -> None:
    """An assignee is a member of the task's project, or nobody; anyone else is refused like a
    user who does not exist."""
    if assignee_id is None:
        return
    if not 1 <= assignee_id <= MAX_ID or not is_member(user_id=assignee_id, project_id=project_id):
        raise AssigneeUnknown()


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


def _lock_projects(*project_ids: int) -> None:
    """Serialize the writes in a project that place tasks among siblings (create, move,
    restore) or walk a subtree (trash): two of them computing a position from the same
    neighbours would give two siblings the same one. Several projects (a move between two) are
    locked in ascending id order, so two such writes never wait on each other in a cycle.

    FOR NO KEY UPDATE of the project's row: it conflicts with itself only, not with the FOR KEY
    SHARE that inserting a row referencing the project takes (a task), so an unlocked write
    (PATCH) never waits for it. On SQLite write transactions are IMMEDIATE: they queue already,
    and the query is skipped.
    """
    if not connection.features.has_select_for_update:
        return
    locked = Project.objects.select_for_update(no_key=True).filter(pk__in=set(project_ids))
    list(locked.order_by("pk").values_list("pk", flat=True))


def _renumber(
    *, project_id: int, placement: Placement, placed_id: int | None, now: datetime
) -> list[int]:
    """Write a rebalance's new positions (two statements); returns the ids renumbered."""
    if not placement.renumbered:
        return []
    ids = list(placement.renumbered)
    tasks = project_tasks(project_id=project_id)
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
    """A new task in `data["project_id"]` (the user's Inbox without one), last among its
    siblings (under `data["parent_id"]`, or at the top level)."""
    data = dict(data)
    parent_id = data.pop("parent_id", None)
    requested = data.pop("project_id", None)
    assignee_id = data.pop("assignee_id", None)
    if requested is None:
        project_id = inbox_id(user=user)  # the user's own: they are its owner
        _lock_projects(project_id)
    else:
        # The role is read after the lock, so a membership change that commits meanwhile is
        # seen (it locks the project too): no write by a member just made a viewer.
        _lock_projects(_project_in_range(requested))
        project_id = _project_for_write(user=user, project_id=requested)
    placement_check(project_id=project_id, parent_id=parent_id)
    _assignee_check(project_id=project_id, assignee_id=assignee_id)
    now = timezone.now()
    fields = {name: value for name, value in data.items() if name != "labels"}
    label_ids = labels_checked(user=user, label_ids=data.get("labels", []))
    placement = placement_last(
        siblings=project_tasks(project_id=project_id).filter(parent_id=parent_id)
    )
    renumbered = _renumber(project_id=project_id, placement=placement, placed_id=None, now=now)
    completed = bool(fields.get("completed", False))
    task = Task.objects.create(
        **{**fields, **due_resolve(current=None, changes=fields)},
        project_id=project_id,
        created_by_id=user.id,
        assignee_id=assignee_id,
        parent_id=parent_id,
        position=placement.position,
        completed_at=now if completed else None,
        created_at=now,
        updated_at=now,
    )
    task_labels_write(task_id=task.pk, old=[], new=label_ids)
    readers = _changes_log(project_id=project_id, task_ids=[task.pk, *renumbered])
    events.task_events_record(
        readers=readers,
        project_id=project_id,
        events={events.CREATED: [task.pk], events.UPDATED: renumbered},
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

    The write is one `UPDATE ... WHERE id AND project_id AND version`: the check and the write
    cannot be separated by another writer. With If-Match a lost race is a 412; without it, the
    changes are applied again to a fresh read, so a concurrent change to other fields survives.
    `labels` are the user's own labels on the task; another member's stay as they are.
    """
    for _attempt in range(MAX_WRITE_ATTEMPTS):
        with transaction.atomic():
            # First, in a statement of its own: the project's lock and its members. A membership
            # change of the project (which locks it, then unassigns its tasks) waits for this
            # write, or this write for it, never each for the other; and the role, the assignee
            # and the readers below are read after any such change committed.
            readers = readers_locked(project_id=task.project_id)
            policy.require(
                user=user,
                project_id=task.project_id,
                permission=policy.TASK_WRITE,
                not_found=TaskNotFound,
            )
            task_ensure_version(task=task, expected_versions=expected_versions)
            if not changes:
                return task  # an empty PATCH changes nothing, the version included
            if "assignee_id" in changes:
                _assignee_check(project_id=task.project_id, assignee_id=changes["assignee_id"])
            now = timezone.now()
            # `labels` is a set of link rows, not a column of the task's row.
            label_ids = changes.get("labels")
            row_changes = {name: value for name, value in changes.items() if name != "labels"}
            values = {
                **row_changes,
                # Resolved against this read of the task, so a retry after a lost race checks
                # the rules again on what the other writer left (a due_date it just set, say).
                **(
                    due_resolve(current=task, changes=row_changes)
                    if _touches_due(row_changes)
                    else {}
                ),
                "completed_at": _completed_at(
                    was_completed=task.completed,
                    completed=changes.get("completed", task.completed),
                    current=task.completed_at,
                    now=now,
                ),
                "updated_at": now,
                "version": task.version + 1,
            }
            if label_ids is not None:
                label_ids = labels_checked(user=user, label_ids=label_ids)
            written = (
                project_tasks(project_id=task.project_id)
                .filter(pk=task.pk, version=task.version)
                .update(**values)
            )
            if written:
                if label_ids is not None:
                    task_labels_write(task_id=task.pk, old=task.label_ids, new=label_ids)
                _changes_log(project_id=task.project_id, task_ids=[task.pk], readers=readers)
                event = _update_event(
                    was_completed=task.completed, completed=values.get("completed")
                )
                events.task_events_record(
                    readers=readers, project_id=task.project_id, events={event: [task.pk]}
                )
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
    project_id: int | None = None,
    expected_versions: Collection[int] | None = None,
) -> Task:
    """POST /tasks/{id}/move/: place the task right after the sibling `after_id` (None: first)
    under `parent_id` (None: the top level; KEEP_PARENT: its current parent, or the top level of
    another project), in `project_id` (None: its own). Its subtree goes with it.

    One task row is written, unless the neighbours have no integer left between them: then a
    window of siblings is renumbered too (positions.py), each with a new version. A move to
    another project also writes the subtree's rows, and unassigns those assigned to someone who
    is not a member there; members of the old project who cannot see the new one see the tasks
    deleted in their changes feed.
    """
    seen = task_get(user=user, task_id=task_id)
    source = seen.project_id
    target_project = source if project_id is None else _project_in_range(project_id)
    with transaction.atomic():
        _lock_projects(source, target_project)
        # Roles read after the locks: a membership change committed meanwhile is seen.
        policy.require(
            user=user, project_id=source, permission=policy.TASK_WRITE, not_found=TaskNotFound
        )
        if target_project != source:
            _project_for_write(user=user, project_id=target_project)
        # Locked: a PATCH of this task waits, so the conditional UPDATE below cannot miss.
        task = task_get_for_update(user=user, task_id=task_id)
        if task.project_id != source:
            raise TaskWriteConflict()  # moved by someone else since the read above: read again
        task_ensure_version(task=task, expected_versions=expected_versions)
        crossing = target_project != source
        # Left out, the parent stays, unless the task leaves its project: then the top level.
        kept_parent = None if crossing else task.parent_id
        target = kept_parent if parent_id is KEEP_PARENT else parent_id
        levels = subtree(tasks=project_tasks(project_id=source), root_id=task.pk)
        if target is not None and (crossing or target != task.parent_id):
            placement_check(
                project_id=target_project, parent_id=target, height=len(levels), moving_id=task.pk
            )
        siblings = (
            project_tasks(project_id=target_project).filter(parent_id=target).exclude(pk=task.pk)
        )
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
        renumbered = _renumber(
            project_id=target_project, placement=placement, placed_id=task.pk, now=now
        )
        values: dict[str, Any] = {
            "parent_id": target,
            "position": placement.position,
            "updated_at": now,
            "version": task.version + 1,
        }
        below = descendants(levels)
        if crossing:
            values["project_id"] = target_project
            kept = member_ids(project_id=target_project)
            if task.assignee_id is not None and task.assignee_id not in kept:
                values["assignee_id"] = None
            if below:
                rows = Task.objects.filter(pk__in=below)
                rows.update(project_id=target_project, updated_at=now, version=F("version") + 1)
                rows.exclude(assignee_id__in=kept).exclude(assignee_id=None).update(
                    assignee_id=None
                )
        written = Task.objects.filter(pk=task.pk, project_id=source, version=task.version).update(
            **values
        )
        if not written:
            raise RuntimeError("a locked task changed under its lock")
        moved = [task.pk, *below] if crossing else [task.pk]
        if crossing:
            gone = sorted(set(member_ids(project_id=source)) - set(kept))
            changes_record(
                kind=SYNC_KIND,
                entries=[
                    Entry(kept, [*moved, *renumbered]),
                    Entry(gone, moved, deleted=True),
                ],
            )
            events.task_events_record(
                readers=kept,
                project_id=target_project,
                events={events.UPDATED: [*moved, *renumbered]},
            )
        else:
            readers = _changes_log(project_id=source, task_ids=[task.pk, *renumbered])
            events.task_events_record(
                readers=readers, project_id=source, events={events.UPDATED: [task.pk, *renumbered]}
            )
    for field, value in values.items():
        setattr(task, field, value)
    return task


def task_trash(
    *, user: HasId, task_id: int, expected_versions: Collection[int] | None = None
) -> None:
    """DELETE /tasks/{id}/: move the task and its subtasks to the trash, with one `deleted_at`
    (what task_restore recognizes them by). Their versions (ETags) stay as they were."""
    task = task_get(user=user, task_id=task_id)  # a non-member's (and a missing id's) 404
    project_id = task.project_id
    tasks = project_tasks(project_id=project_id).filter(pk=task_id)
    condition = tasks if expected_versions is None else tasks.filter(version__in=expected_versions)
    with transaction.atomic():
        # Locked: no task is moved or created under this subtree while it is being trashed,
        # and the role is read after any membership change that committed meanwhile.
        _lock_projects(project_id)
        policy.require(
            user=user, project_id=project_id, permission=policy.TASK_WRITE, not_found=TaskNotFound
        )
        now = timezone.now()
        trashed = condition.update(deleted_at=now)
        if trashed:
            below = descendants(
                subtree(tasks=project_tasks(project_id=project_id), root_id=task_id)
            )
            if below:
                project_tasks(project_id=project_id).filter(pk__in=below).update(deleted_at=now)
            readers = _changes_log(project_id=project_id, task_ids=[task_id, *below], deleted=True)
            events.task_events_record(
                readers=readers, project_id=project_id, events={events.DELETED: [task_id, *below]}
            )
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
        found = task_trashed_get(user=user, task_id=task_id)  # 404 unless in a member's trash
        project_id = found.project_id
        with transaction.atomic():
            _lock_projects(project_id)
            # After the lock: the role as any membership change committed meanwhile left it.
            policy.require(
                user=user,
                project_id=project_id,
                permission=policy.TRASH_WRITE,
                not_found=TaskNotFound,
            )
            task = task_trashed_get(user=user, task_id=task_id)
            if task.project_id != project_id:
                continue
            task_ensure_version(task=task, expected_versions=expected_versions)
            now = timezone.now()
            trash = Task.objects.filter(project_id=project_id, deleted_at__isnull=False)
            trashed_with_it = trash.filter(deleted_at=task.deleted_at)
            levels = subtree(tasks=trashed_with_it, root_id=task_id)
            parent_id = task.parent_id
            refusal = placement_refusal(
                project_id=project_id, parent_id=parent_id, height=len(levels)
            )
            if refusal is not None:
                parent_id = None
            siblings = project_tasks(project_id=project_id).filter(parent_id=parent_id)
            position, renumbered = task.position, []
            if parent_id != task.parent_id or siblings.filter(position=position).exists():
                placement = placement_last(siblings=siblings)
                renumbered = _renumber(
                    project_id=project_id, placement=placement, placed_id=None, now=now
                )
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
                readers = _changes_log(
                    project_id=project_id, task_ids=[task_id, *below, *renumbered]
                )
                events.task_events_record(
                    readers=readers,
                    project_id=project_id,
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
    found = task_trashed_get(user=user, task_id=task_id)  # 404 unless in a member's trash
    project_id = found.project_id
    with transaction.atomic():
        # Subtasks point at their parent and label links at the task (ON DELETE CASCADE, done
        # by Django), so the deletion selects the task and its subtree level by level, then
        # deletes by id: a few statements, not one. Locked, so no restore (or move) in this
        # project commits between that read and the DELETE: it would be erased while the
        # change log lists it as live. The role is read after the lock, as everywhere.
        _lock_projects(project_id)
        policy.require(
            user=user, project_id=project_id, permission=policy.TRASH_WRITE, not_found=TaskNotFound
        )
        trash = Task.objects.filter(project_id=project_id, deleted_at__isnull=False)
        erased, _ = trash.filter(pk=task_id).delete()
    if not erased:
        raise TaskNotFound()


def trash_expired_before() -> datetime:
    return timezone.now() - settings.TRASH_RETENTION


def trash_purge(*, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Erase tasks that have been in the trash longer than TRASH_RETENTION; returns how many.

    Across projects on purpose: this is the one write that is not scoped to a user. The change log
    already lists these tasks as deleted.
    """
    expired = Task.objects.filter(deleted_at__lt=trash_expired_before())
    return purge_in_batches(
        expired, oldest_first="deleted_at", batch_size=batch_size, lock_batch=_lock_projects_of
    )


def _lock_projects_of(task_ids: list[int]) -> None:
    """The project locks of task_erase, for a purge batch across projects: taken in id order,
    as a move between two projects takes them."""
    projects = Task.objects.filter(pk__in=task_ids).values_list("project_id", flat=True)
    _lock_projects(*set(projects))
