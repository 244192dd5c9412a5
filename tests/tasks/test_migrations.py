"""Data migrations: existing tasks get their change-log records, so a full sync sees them, the
internal due_day that the due filters and the due_date ordering read, and a project (every user
gets an Inbox, and their tasks move into it).

Each test starts from a state before projects (the projects app unapplied as well), so that the
way to the latest state runs the Inbox migration over the users the test made."""

import importlib
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

NO_PROJECTS = ("projects", None)  # a migration target: the app unapplied
BEFORE = [("tasks", "0002_trash"), ("sync", "0001_initial"), NO_PROJECTS]
AFTER = [("tasks", "0003_sync_records")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    applied = [target for target in targets if target[1] is not None]
    return executor.loader.project_state(applied).apps


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
    apps = _migrate([("tasks", "0003_sync_records"), NO_PROJECTS])
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
    apps = _migrate([("tasks", "0003_sync_records"), NO_PROJECTS])
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
    apps = _migrate([("tasks", "0006_subtasks"), NO_PROJECTS])
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


def _migration(app: str, name: str):
    return importlib.import_module(f"taskapi.{app}.migrations.{name}")


@pytest.fixture
def small_batches(monkeypatch):
    """Both data migrations in batches of one or two rows, so that their loops are walked."""
    monkeypatch.setattr(_migration("projects", "0002_inboxes"), "BATCH_SIZE", 2)
    monkeypatch.setattr(_migration("tasks", "0009_tasks_into_inboxes"), "BATCH_SIZE", 1)


def _inboxes(apps) -> dict[int, tuple[int, str, list[tuple[int, str]]]]:
    """Owner id -> (inbox id, name, its memberships as (user id, role))."""
    Project = apps.get_model("projects", "Project")
    Membership = apps.get_model("projects", "Membership")
    return {
        project.owner_id: (
            project.pk,
            project.name,
            list(Membership.objects.filter(project=project).values_list("user_id", "role")),
        )
        for project in Project.objects.filter(inbox=True)
    }


@pytest.mark.django_db(transaction=True)
def test_every_user_gets_an_inbox_and_their_tasks_move_into_it(small_batches):
    apps = _migrate([("tasks", "0007_trash_stray_subtasks"), NO_PROJECTS])
    User, Task = apps.get_model("accounts", "User"), apps.get_model("tasks", "Task")
    ada, bob, cy = (User.objects.create(email=f"{name}@example.com") for name in "abc")
    trashed_at = datetime(2026, 11, 1, tzinfo=UTC)
    top = Task.objects.create(owner=ada, title="top", position=0)
    sub = Task.objects.create(owner=ada, title="sub", parent=top, position=0)
    gone = Task.objects.create(owner=ada, title="gone", position=1, deleted_at=trashed_at)
    bobs = Task.objects.create(owner=bob, title="bob's", position=0)

    apps = _migrate(_latest())

    inboxes = _inboxes(apps)
    assert set(inboxes) == {ada.pk, bob.pk, cy.pk}  # cy, without a task, gets one too
    for user in (ada, bob, cy):
        _, name, members = inboxes[user.pk]
        assert (name, members) == ("Inbox", [(user.pk, "owner")])
    Task = apps.get_model("tasks", "Task")
    rows = Task.objects.values_list(
        "pk", "project_id", "created_by_id", "assignee_id", "parent_id", "position", "deleted_at"
    )
    assert sorted(rows) == sorted(
        [
            (top.pk, inboxes[ada.pk][0], ada.pk, None, None, 0, None),
            (sub.pk, inboxes[ada.pk][0], ada.pk, None, top.pk, 0, None),
            (gone.pk, inboxes[ada.pk][0], ada.pk, None, None, 1, trashed_at),
            (bobs.pk, inboxes[bob.pk][0], bob.pk, None, None, 0, None),
        ]
    )


@pytest.mark.django_db(transaction=True)
def test_the_inbox_migrations_run_again_change_nothing(small_batches):
    apps = _migrate([("tasks", "0007_trash_stray_subtasks"), NO_PROJECTS])
    User, Task = apps.get_model("accounts", "User"), apps.get_model("tasks", "Task")
    ada = User.objects.create(email="ada@example.com")
    User.objects.create(email="bob@example.com")  # without tasks
    adas = Task.objects.create(owner=ada, title="ada's", position=0)
    apps = _migrate(_latest())
    inboxes = _inboxes(apps)
    Task = apps.get_model("tasks", "Task")
    before = sorted(Task.objects.values_list("pk", "project_id", "created_by_id"))

    # Back to before the tasks had projects, keeping the Inboxes (their migration's reverse is a
    # no-op), and forward again: both data migrations run over what a first run left.
    _migrate([("projects", "0001_initial")])
    apps = _migrate(_latest())

    assert _inboxes(apps) == inboxes
    Task = apps.get_model("tasks", "Task")
    assert sorted(Task.objects.values_list("pk", "project_id", "created_by_id")) == before
    assert before == [(adas.pk, inboxes[ada.pk][0], ada.pk)]


@pytest.mark.django_db(transaction=True)
def test_the_task_migration_resumed_fills_only_the_tasks_left_without_a_project(small_batches):
    apps = _migrate([("tasks", "0008_projects")])
    User, Task = apps.get_model("accounts", "User"), apps.get_model("tasks", "Task")
    Project = apps.get_model("projects", "Project")
    Membership = apps.get_model("projects", "Membership")
    ada = User.objects.create(email="ada@example.com")
    # Made in this state by hand (its users had their Inbox from projects' 0002 already).
    inbox = Project.objects.create(owner=ada, name="Inbox", inbox=True)
    Membership.objects.create(project=inbox, user=ada, role="owner")
    elsewhere = Project.objects.create(owner=ada, name="Elsewhere")
    Membership.objects.create(project=elsewhere, user=ada, role="owner")
    placed = Task.objects.create(created_by=ada, project=elsewhere, title="placed", position=0)
    left = Task.objects.create(created_by=ada, title="left", position=0)

    apps = _migrate(_latest())

    Task = apps.get_model("tasks", "Task")
    assert dict(Task.objects.values_list("pk", "project_id")) == {
        placed.pk: elsewhere.pk,  # a first run's (or a later write's) project is kept
        left.pk: inbox.pk,
    }
