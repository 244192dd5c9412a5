"""Two writers at once, on real threads with their own database connections.

Both threads are held at a barrier right after they read the task (or before they create), so
the interleaving that loses updates with a read-then-write implementation happens every run.

The database: pytest-django's SQLite test database is Django's shared-cache in-memory one
(file:memorydb_default?mode=memory&cache=shared). Threads can open connections to it, but
shared-cache locking is per table and never waits: a second writer gets "database table is
locked" (a 503 here) instead of queueing behind the first, so these tests were flaky on it.
The `file_database` fixture therefore points the default connection (and, through the shared
settings dict, every connection the threads open) at a migrated SQLite file for the test, with
the production options (WAL, IMMEDIATE transactions, 20 s busy timeout). Real PostgreSQL races
are driven in tests/stack.
"""

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models.deletion import Collector
from django.utils import timezone
from rest_framework.test import APIClient

from taskapi.sync.models import Change
from taskapi.tasks import labelling, services, views
from taskapi.tasks.models import SYNC_KIND, IdempotencyRecord, Task
from taskapi.tasks.services import trash_purge
from tests.factories import LabelFactory, TaskFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("file_database")]


@pytest.fixture
def file_database(transactional_db, tmp_path):
    """The default database as a SQLite file for this test; the in-memory one is kept aside."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield  # a real server database already has real locks
        return
    settings_dict = connection.settings_dict
    in_memory_name, in_memory_connection = settings_dict["NAME"], connection.connection
    connection.connection = None  # closing it would drop the in-memory database
    settings_dict["NAME"] = str(tmp_path / "race.sqlite3")
    try:
        call_command("migrate", verbosity=0)
        # Django's middleware (and django-prometheus' lazily created metrics) set up by a
        # first request here, not raced by the two threads.
        APIClient().get("/health/")
        yield
    finally:
        connection.close()
        settings_dict["NAME"] = in_memory_name
        connection.connection = in_memory_connection


def _run_together(calls: list[Callable[[], object]]) -> list[object]:
    results: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except BaseException as exc:  # reported by the test, not lost in the thread
            results[index] = exc
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.fixture
def pause_after_read(monkeypatch):
    """Both requests read the task before either writes it."""
    barrier = threading.Barrier(2, timeout=10)
    read = views.task_get

    def task_get_then_wait(**kwargs):
        task = read(**kwargs)
        barrier.wait()
        return task

    monkeypatch.setattr(views, "task_get", task_get_then_wait)


def _client(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user=user)
    return api


def test_two_writers_with_the_same_if_match_cannot_both_win(user, pause_after_read):
    task = TaskFactory(owner=user, title="start")
    url = f"/tasks/{task.pk}/"

    responses = _run_together(
        [
            lambda: _client(user).patch(url, {"title": "A"}, format="json", HTTP_IF_MATCH='"1"'),
            lambda: _client(user).patch(url, {"title": "B"}, format="json", HTTP_IF_MATCH='"1"'),
        ]
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 412]
    winner = next(r for r in responses if r.status_code == 200)
    task.refresh_from_db()
    assert task.title == winner.json()["title"]
    assert task.version == 2


def test_two_writers_without_if_match_keep_both_changes(user, pause_after_read):
    task = TaskFactory(owner=user, title="start", priority="low")
    url = f"/tasks/{task.pk}/"

    responses = _run_together(
        [
            lambda: _client(user).patch(url, {"title": "renamed"}, format="json"),
            lambda: _client(user).patch(url, {"priority": "high"}, format="json"),
        ]
    )

    assert [r.status_code for r in responses] == [200, 200]
    task.refresh_from_db()
    assert (task.title, task.priority) == ("renamed", "high")
    # Two writes, two versions: no two different states ever shared an ETag.
    assert task.version == 3
    assert sorted(r["ETag"] for r in responses) == ['"2"', '"3"']


def test_two_creates_with_the_same_idempotency_key_make_one_task(user, monkeypatch):
    barrier = threading.Barrier(2, timeout=10)
    create = views.task_create_idempotent

    def wait_then_create(**kwargs):
        barrier.wait()
        return create(**kwargs)

    monkeypatch.setattr(views, "task_create_idempotent", wait_then_create)

    def post():
        return _client(user).post(
            "/tasks/", {"title": "once"}, format="json", HTTP_IDEMPOTENCY_KEY="same"
        )

    responses = _run_together([post, post])

    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].json() == responses[1].json()
    assert sorted(r.has_header("Idempotent-Replayed") for r in responses) == [False, True]
    assert Task.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_two_purges_at_once_erase_each_expired_task_once_and_keep_the_rest(user):
    long_ago = timezone.now() - timedelta(days=31)
    expired = TaskFactory.create_batch(30, owner=user, deleted_at=long_ago)
    kept = TaskFactory(owner=user, deleted_at=timezone.now())
    barrier = threading.Barrier(2, timeout=10)

    def purge() -> int:
        barrier.wait()
        return trash_purge(batch_size=7)

    erased = _run_together([purge, purge])

    assert not any(isinstance(result, BaseException) for result in erased), erased
    assert sum(erased) == len(expired)
    assert list(Task.objects.values_list("pk", flat=True)) == [kept.pk]


def test_a_label_deleted_while_a_task_write_puts_it_on_ends_with_the_task_changed(
    user, monkeypatch
):
    """The deletion waits for the write that checked (and locked) the label, then takes the
    label off that task too: no task is left carrying a deleted label's link, none loses a
    label without a new version, and neither request fails."""
    label = LabelFactory(owner=user)
    task = TaskFactory(owner=user)
    checked = threading.Event()
    check = services.labels_checked

    def check_then_linger(**kwargs):
        label_ids = check(**kwargs)
        checked.set()
        threading.Event().wait(0.5)  # the deletion starts meanwhile, and must wait
        return label_ids

    monkeypatch.setattr(services, "labels_checked", check_then_linger)

    def delete_once_checked():
        assert checked.wait(10)
        return _client(user).delete(f"/labels/{label.pk}/")

    labelled, deleted = _run_together(
        [
            lambda: _client(user).patch(
                f"/tasks/{task.pk}/", {"labels": [label.pk]}, format="json"
            ),
            delete_once_checked,
        ]
    )

    assert (labelled.status_code, deleted.status_code) == (200, 204)
    assert labelled.json()["labels"] == [label.pk]
    task.refresh_from_db()
    # 1 created, 2 labelled, 3 the label taken off again by the deletion.
    assert (list(task.label_links.all()), task.version) == ([], 3)


# --- concurrent moves among siblings ------------------------------------------------------------


def test_concurrent_moves_of_siblings_never_share_or_lose_a_position(user, monkeypatch):
    # Every placement is computed, then held for a moment before it is written: without the
    # per-project lock (services._lock_projects) two moves read the same neighbours and pick the
    # same position (on PostgreSQL the unique index refuses the second: a 500).
    from taskapi.tasks import services

    compute = services.placement_after

    def placement_then_wait(**kwargs):
        placement = compute(**kwargs)
        time.sleep(0.02)
        return placement

    monkeypatch.setattr(services, "placement_after", placement_then_wait)
    parent = TaskFactory(owner=user)
    children = [TaskFactory(owner=user, parent=parent, position=i * 2**16) for i in range(8)]
    anchor = children[0]

    def mover(offset: int) -> Callable[[], list[int]]:
        def run() -> list[int]:
            statuses = []
            for step in range(6):
                task = children[1 + (offset + step * 3) % 7]
                url = f"/tasks/{task.pk}/move/"
                response = _client(user).post(url, {"after_id": anchor.pk}, format="json")
                statuses.append(response.status_code)
            return statuses

        return run

    results = _run_together([mover(offset) for offset in range(3)])

    assert results == [[200] * 6] * 3
    positions = list(
        Task.objects.filter(parent=parent, deleted_at__isnull=True).values_list(
            "position", flat=True
        )
    )
    assert len(positions) == len(set(positions)) == len(children)


def test_two_bulk_writes_with_the_same_idempotency_key_apply_once(user, monkeypatch):
    task = TaskFactory(owner=user, title="start")
    barrier = threading.Barrier(2, timeout=10)
    respond = views.respond_once

    def wait_then_respond(**kwargs):
        barrier.wait()
        return respond(**kwargs)

    monkeypatch.setattr(views, "respond_once", wait_then_respond)
    operations = [
        {"op": "create", "body": {"title": "once"}},
        {"op": "update", "id": task.pk, "body": {"title": "renamed once"}},
    ]

    def post():
        return _client(user).post(
            "/tasks/bulk/", {"operations": operations}, format="json", HTTP_IDEMPOTENCY_KEY="same"
        )

    responses = _run_together([post, post])

    assert [r.status_code for r in responses] == [200, 200]
    assert responses[0].json() == responses[1].json()
    assert sorted(r.has_header("Idempotent-Replayed") for r in responses) == [False, True]
    assert Task.objects.filter(title="once").count() == 1
    task.refresh_from_db()
    assert (task.title, task.version) == ("renamed once", 2)


def test_a_keyed_bulk_write_and_a_single_write_crossing_it_each_get_an_answer(user, monkeypatch):
    # The keyed batch holds its user's change counter from its first write to its commit. A
    # single write that locks a task of the batch and then waits for the counter would wait
    # forever on PostgreSQL, while the batch waits for that task: PostgreSQL breaks the deadlock
    # by aborting one of the two, which answers 503 (safe to retry); SQLite queues the writers.
    # Forced here: the batch pauses after its first write until the single write has locked
    # the second task and is about to record itself.
    from taskapi.tasks import services

    first, second = TaskFactory(owner=user), TaskFactory(owner=user)
    batch_wrote_first, single_wrote_second = threading.Event(), threading.Event()
    batch_threads: set[int] = set()
    record = services._changes_log

    def record_in_step(**arguments):
        if threading.get_ident() in batch_threads:
            record(**arguments)
            if arguments["task_ids"] == [first.pk]:
                batch_wrote_first.set()
                single_wrote_second.wait(5)  # SQLite: the single write waits for our commit
            return
        single_wrote_second.set()
        record(**arguments)

    monkeypatch.setattr(services, "_changes_log", record_in_step)
    operations = [
        {"op": "update", "id": first.pk, "body": {"title": "batch"}},
        {"op": "update", "id": second.pk, "body": {"title": "batch"}},
    ]

    def batch():
        batch_threads.add(threading.get_ident())
        return _client(user).post(
            "/tasks/bulk/", {"operations": operations}, format="json", HTTP_IDEMPOTENCY_KEY="k"
        )

    def single():
        batch_wrote_first.wait(5)
        return _client(user).patch(f"/tasks/{second.pk}/", {"priority": "high"}, format="json")

    batch_response, single_response = _run_together([batch, single])

    statuses = [batch_response.status_code, single_response.status_code]
    assert set(statuses) <= {200, 503} and 200 in statuses, statuses
    for response in (batch_response, single_response):
        if response.status_code == 503:
            assert response["Retry-After"]
    first.refresh_from_db()
    second.refresh_from_db()
    if batch_response.status_code == 200:
        assert (first.title, second.title) == ("batch", "batch")
    else:  # nothing of the batch, not even its first write, and no answer stored for the key
        assert first.version == 1
        assert not IdempotencyRecord.objects.exists()
    assert (second.priority == "high") == (single_response.status_code == 200)


# --- the change log agrees with the tasks after racing erasures ----------------------------------


def _log_says_deleted(task_id: int) -> bool:
    return Change.objects.get(kind=SYNC_KIND, object_id=task_id).deleted


def _is_live(task_id: int) -> bool:
    return Task.objects.filter(pk=task_id, deleted_at__isnull=True).exists()


@pytest.fixture
def pause_before_deleting(monkeypatch):
    """A deletion (an erase, a purge) has read what it deletes and waits before its DELETE.

    Django's deletion selects the rows (and their subtasks and label links), then deletes them
    by id. A restore committed in between would be erased although the change log lists it as
    live: the project lock keeps restores out from before that read.
    """
    collected = threading.Event()
    delete = Collector.delete

    def wait_then_delete(self):
        collected.set()
        time.sleep(0.5)  # a restore starts meanwhile, and must wait
        return delete(self)

    monkeypatch.setattr(Collector, "delete", wait_then_delete)
    return collected


def _trashed_task(user, *, deleted_at=None) -> Task:
    task = TaskFactory(owner=user)
    assert _client(user).delete(f"/tasks/{task.pk}/").status_code == 204
    if deleted_at is not None:
        Task.objects.filter(pk=task.pk).update(deleted_at=deleted_at)
    return task


def test_a_restore_racing_an_erase_is_either_erased_with_it_or_not_erased(
    user, pause_before_deleting
):
    task = _trashed_task(user)

    def restore_once_collected():
        assert pause_before_deleting.wait(10)
        return _client(user).post(f"/tasks/{task.pk}/restore/")

    erased, restored = _run_together(
        [lambda: _client(user).delete(f"/tasks/trash/{task.pk}/"), restore_once_collected]
    )

    assert (erased.status_code, restored.status_code) == (204, 404)
    assert not Task.objects.filter(pk=task.pk).exists()
    assert _log_says_deleted(task.pk)


def test_a_restore_racing_the_trash_purge_is_either_purged_with_it_or_not_purged(
    user, pause_before_deleting
):
    task = _trashed_task(user, deleted_at=timezone.now() - timedelta(days=31))

    def restore_once_collected():
        assert pause_before_deleting.wait(10)
        return _client(user).post(f"/tasks/{task.pk}/restore/")

    purged, restored = _run_together([trash_purge, restore_once_collected])

    assert (purged, restored.status_code) == (1, 404)
    assert not Task.objects.filter(pk=task.pk).exists()
    assert _log_says_deleted(task.pk)


def test_a_purge_counts_tasks_not_the_label_links_erased_with_them(user):
    label = LabelFactory(owner=user)
    task = _trashed_task(user, deleted_at=timezone.now() - timedelta(days=31))
    task.label_links.create(label=label)

    assert trash_purge() == 1


def test_a_task_trashed_while_its_label_is_deleted_stays_deleted_in_the_change_log(
    user, monkeypatch
):
    """The deletion takes the label off its tasks and records the live ones; a task trashed
    meanwhile must not be recorded live after its deletion record (a sync client would bring it
    back). On SQLite the two transactions queue; on PostgreSQL the label's UPDATE of the task
    rows orders them."""
    label = LabelFactory(owner=user)
    task = TaskFactory(owner=user)
    task.label_links.create(label=label)
    updating = threading.Event()
    now = timezone.now

    class PausingClock:
        @staticmethod
        def now():
            updating.set()
            time.sleep(0.5)  # the trash commits meanwhile where it can
            return now()

    monkeypatch.setattr(labelling, "timezone", PausingClock)

    def trash_once_updating():
        assert updating.wait(10)
        return _client(user).delete(f"/tasks/{task.pk}/")

    deleted, trashed = _run_together(
        [lambda: _client(user).delete(f"/labels/{label.pk}/"), trash_once_updating]
    )

    assert (deleted.status_code, trashed.status_code) == (204, 204)
    assert not _is_live(task.pk)
    assert _log_says_deleted(task.pk)
