"""Data migrations: existing tasks get their change-log records, so a full sync sees them, and
the internal due_day that the due filters and the due_date ordering read."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("tasks", "0002_trash"), ("sync", "0001_initial")]
AFTER = [("tasks", "0003_sync_records")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_tasks_get_records_numbered_per_user_and_counters_that_continue():
    apps = _migrate(BEFORE)
    User, Task = apps.get_model("accounts", "User"), apps.get_model("tasks", "Task")
    ada, bob = (User.objects.create(email=f"{name}@example.com") for name in ("ada", "bob"))
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    older = Task.objects.create(owner=ada, title="older", created_at=t0, updated_at=t0)
    newer = Task.objects.create(
        owner=ada, title="newer", created_at=t0, updated_at=t0.replace(day=2)
    )
    bobs = Task.objects.create(owner=bob, title="bob's", created_at=t0, updated_at=t0)

    apps = _migrate(AFTER)
    _migrate(_latest())

    Change, Counter = apps.get_model("sync", "Change"), apps.get_model("sync", "ChangeCounter")
    records = {c.object_id: (c.owner_id, c.seq, c.deleted) for c in Change.objects.all()}
    assert records == {
        older.pk: (ada.pk, 1, False),
        newer.pk: (ada.pk, 2, False),
        bobs.pk: (bob.pk, 1, False),
    }
    assert dict(Counter.objects.values_list("owner_id", "seq")) == {ada.pk: 2, bob.pk: 1}


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_existing_tasks_are_due_on_their_due_date_after_the_due_times_migration():
    apps = _migrate([("tasks", "0003_sync_records")])
    User, Task = apps.get_model("accounts", "User"), apps.get_model("tasks", "Task")
    ada = User.objects.create(email="ada@example.com")
    dated = Task.objects.create(owner=ada, title="dated", due_date=date(2026, 12, 31))
    undated = Task.objects.create(owner=ada, title="undated")

    apps = _migrate([("tasks", "0005_due_times")])
    _migrate(_latest())

    Task = apps.get_model("tasks", "Task")
    rows = Task.objects.values_list("pk", "due_date", "due_at", "time_zone", "due_day")
    assert sorted(rows) == sorted(
        [
            (dated.pk, date(2026, 12, 31), None, None, date(2026, 12, 31)),
            (undated.pk, None, None, None, None),
        ]
    )


@pytest.mark.django_db(transaction=True)
def test_existing_tasks_get_positions_per_user_in_creation_order_a_gap_apart():
    apps = _migrate([("tasks", "0003_sync_records")])
    User, Task = apps.get_model("accounts", "User"), apps.get_model("tasks", "Task")
    ada, bob = (User.objects.create(email=f"{name}@example.com") for name in ("ada", "bob"))
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    second = Task.objects.create(owner=ada, title="second", created_at=t0.replace(day=2))
    first = Task.objects.create(owner=ada, title="first", created_at=t0)
    tie = Task.objects.create(owner=ada, title="tie, later id", created_at=t0.replace(day=2))
    bobs = Task.objects.create(owner=bob, title="bob's", created_at=t0, deleted_at=t0)

    apps = _migrate([("tasks", "0006_subtasks")])
    _migrate(_latest())

    Task = apps.get_model("tasks", "Task")
    positions = dict(Task.objects.values_list("pk", "position"))
    assert positions == {first.pk: 0, second.pk: 2**16, tie.pk: 2 * 2**16, bobs.pk: 0}
    assert set(Task.objects.values_list("parent_id", flat=True)) == {None}


@pytest.mark.django_db(transaction=True)
def test_live_subtasks_left_under_a_trashed_task_join_it_in_the_trash_and_the_change_log():
    apps = _migrate([("tasks", "0006_subtasks")])
    User, Task = apps.get_model("accounts", "User"), apps.get_model("tasks", "Task")
    Counter = apps.get_model("sync", "ChangeCounter")
    ada = User.objects.create(email="ada@example.com")
    Counter.objects.create(owner=ada, seq=41)
    trashed_at = datetime(2026, 11, 1, tzinfo=UTC)
    top = Task.objects.create(owner=ada, title="top", deleted_at=trashed_at)
    middle = Task.objects.create(owner=ada, title="middle", parent=top, deleted_at=trashed_at)
    stray = Task.objects.create(owner=ada, title="stray", parent=middle, position=1)
    below = Task.objects.create(owner=ada, title="below", parent=stray, position=2)
    kept_parent = Task.objects.create(owner=ada, title="kept", position=3)
    kept_child = Task.objects.create(owner=ada, title="kept child", parent=kept_parent, position=4)

    apps = _migrate([("tasks", "0007_trash_stray_subtasks")])
    _migrate(_latest())

    Task, Change = apps.get_model("tasks", "Task"), apps.get_model("sync", "Change")
    stamps = dict(Task.objects.values_list("pk", "deleted_at"))
    assert stamps == {
        top.pk: trashed_at,
        middle.pk: trashed_at,
        stray.pk: trashed_at,
        below.pk: trashed_at,
        kept_parent.pk: None,
        kept_child.pk: None,
    }
    records = set(Change.objects.values_list("object_id", "seq", "deleted"))
    assert records == {(stray.pk, 42, True), (below.pk, 42, True)}
