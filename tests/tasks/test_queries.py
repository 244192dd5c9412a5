"""SQL statements per request (authentication excluded: the light client needs none).

Since tasks live in projects (taskapi.projects), a request also asks who may do what: a list
reads the caller's projects first (_readable), a write to a task asks the caller's role in its
project (_role), and a write records itself for every member of the project (_record reads the
members; _events asks their webhooks).
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from taskapi.tasks.models import Task
from tests.factories import LabelFactory, TaskFactory, inbox_of

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def many_tasks(user):
    inbox = inbox_of(user)
    return Task.objects.bulk_create(
        [
            Task(
                project=inbox,
                created_by=user,
                title=f"t{i}",
                created_at=T0 + timedelta(seconds=i // 3),
                updated_at=T0,
                due_date=date(2026, 1, 1 + i % 5) if i % 4 else None,
                due_day=date(2026, 1, 1 + i % 5) if i % 4 else None,
                position=i,
            )
            for i in range(250)
        ]
    )


# Recording a write in the change log (taskapi.sync): the project's members, who read it
# (projects.selectors.readers_locked; on PostgreSQL it also holds the project's row), then one
# statement on PostgreSQL (a data-modifying CTE), two on SQLite (the counters, then the records).
def _record() -> int:
    return 1 + (1 if connection.vendor == "postgresql" else 2)


def _events() -> int:
    # Which event types the readers' listeners want (webhooks: one query of all their active
    # endpoints; the readers are those the change record read); with none, nothing more is
    # rendered or written (core/events.py).
    return 1


def _membership_lock() -> int:
    # A write that places no task (PATCH, PUT) shares the project's membership lock before it
    # reads the members (projects/locks.py): an advisory lock on PostgreSQL, nothing on SQLite.
    return 1 if connection.vendor == "postgresql" else 0


def _inbox() -> int:
    # A create without a project_id reads the caller's Inbox (projects.selectors.inbox_id).
    return 1


def _role() -> int:
    # The caller's role in the task's project (projects.policy.require: one membership row).
    return 1


def _readable() -> int:
    # The ids of the caller's projects (projects.policy.project_ids, one read of the membership
    # index), which the page's own statement then names as values (tasks.selectors).
    return 1


TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK", "BEGIN", "COMMIT")


def _count(call) -> tuple[int, object]:
    """Data statements run by `call`; the test's own transaction turns BEGIN into SAVEPOINT."""
    with CaptureQueriesContext(connection) as queries:
        response = call()
    statements = [q["sql"] for q in queries.captured_queries]
    return len([s for s in statements if not s.startswith(TRANSACTION_CONTROL)]), response


@pytest.mark.parametrize("ordering", ["-created_at", "updated_at"])
def test_list_is_one_query_and_the_projects_read_whatever_the_page_size(
    light_client, many_tasks, ordering
):
    counts = []
    for page_size in (1, 100):
        count, response = _count(
            lambda size=page_size: light_client.get(f"/tasks/?page_size={size}&ordering={ordering}")
        )
        assert response.status_code == 200
        count_next, _ = _count(lambda r=response: light_client.get(r.json()["next"]))
        counts.append((count, count_next))

    page = 1 + _readable()
    assert counts == [(page, page), (page, page)]


def test_list_by_due_date_is_at_most_two_queries_and_the_projects_read_per_page(
    light_client, many_tasks
):
    url = "/tasks/?page_size=100&ordering=due_date"
    counts = []
    while url:
        count, response = _count(lambda u=url: light_client.get(u))
        counts.append(count)
        url = response.json()["next"]

    # The page where dated tasks end and undated ones begin reads twice.
    assert max(counts) == 2 + _readable()
    assert counts.count(2 + _readable()) == 1


def _lock() -> int:
    # The per-project lock of writes that place tasks among siblings (services._lock_projects):
    # a SELECT ... FOR NO KEY UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions need none.
    return 1 if connection.vendor == "postgresql" else 0


def test_create_is_two_queries_the_lock_and_its_change_record(light_client):
    count, response = _count(lambda: light_client.post("/tasks/", {"title": "x"}, format="json"))

    assert response.status_code == 201
    # The last sibling's position, the INSERT.
    assert count == 2 + _inbox() + _lock() + _record() + _events()


def test_create_with_an_idempotency_key_is_three_queries_the_lock_and_the_record(light_client):
    count, response = _count(
        lambda: light_client.post(
            "/tasks/", {"title": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
        )
    )

    assert response.status_code == 201
    # The last sibling's position, the task and the stored response, in one transaction.
    assert count == 3 + _inbox() + _lock() + _record() + _events()


def test_get_is_one_query(light_client, user):
    task = TaskFactory(owner=user)

    count, response = _count(lambda: light_client.get(f"/tasks/{task.pk}/"))

    assert response.status_code == 200
    assert count == 1


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_is_two_queries_the_role_and_the_record_with_or_without_if_match(
    light_client, user, method
):
    task = TaskFactory(owner=user)
    call = getattr(light_client, method)

    plain, first = _count(lambda: call(f"/tasks/{task.pk}/", {"title": "a"}, format="json"))
    guarded, second = _count(
        lambda: call(f"/tasks/{task.pk}/", {"title": "b"}, format="json", HTTP_IF_MATCH='"2"')
    )

    assert (first.status_code, second.status_code) == (200, 200)
    # read the task, one conditional UPDATE
    expected = 2 + _membership_lock() + _role() + _record() + _events()
    assert (plain, guarded) == (expected, expected)


def test_delete_is_two_queries_the_role_the_lock_and_the_record_with_or_without_if_match(
    light_client, user
):
    plain_task, guarded_task = TaskFactory.create_batch(2, owner=user)

    plain, first = _count(lambda: light_client.delete(f"/tasks/{plain_task.pk}/"))
    guarded, second = _count(
        lambda: light_client.delete(f"/tasks/{guarded_task.pk}/", HTTP_IF_MATCH='"1"')
    )

    assert (first.status_code, second.status_code) == (204, 204)
    # Read the task (which project?), the conditional UPDATE, then the (here empty) level of
    # subtasks to trash with it.
    expected = 3 + _role() + _lock() + _record() + _events()
    assert (plain, guarded) == (expected, expected)


def test_restore_of_a_top_level_task_is_four_queries_the_role_the_lock_and_the_record(
    light_client, user
):
    task = TaskFactory(owner=user, deleted_at=T0)

    count, response = _count(lambda: light_client.post(f"/tasks/{task.pk}/restore/"))

    assert response.status_code == 200
    # Read it from the trash (which project?), again under the project's lock, check its
    # position is free, one conditional UPDATE, the (here empty) level of subtasks trashed
    # with it.
    assert count == 5 + _role() + _lock() + _record() + _events()


def test_erase_of_a_task_without_subtasks_is_four_queries_the_role_and_the_lock(light_client, user):
    task = TaskFactory(owner=user, deleted_at=T0)

    count, response = _count(lambda: light_client.delete(f"/tasks/trash/{task.pk}/"))

    assert response.status_code == 204
    # Read it from the trash (which project?), the project lock (no restore commits between
    # the cascade's read and its delete), then Django's cascade: select the task, select its
    # subtasks, delete its label links, delete it.
    assert count == 5 + _role() + _lock()


def test_trash_is_one_query_a_page_and_the_projects_read(light_client, user):
    TaskFactory.create_batch(5, owner=user, deleted_at=T0)

    first, response = _count(lambda: light_client.get("/tasks/trash/?page_size=2"))
    second, _ = _count(lambda: light_client.get(response.json()["next"]))

    # The projects read is of those where the caller may read the trash (not a viewer's).
    assert (first, second) == (1 + _readable(), 1 + _readable())


def test_changes_are_at_most_two_queries_a_page_whatever_the_page_size(light_client):
    for i in range(30):
        task_id = light_client.post("/tasks/", {"title": f"t{i}"}, format="json").json()["id"]
        if i % 3 == 0:
            light_client.delete(f"/tasks/{task_id}/")
    counts = []
    for page_size in (1, 7, 500):
        token = None
        while True:
            query = f"page_size={page_size}" + (f"&sync_token={token}" if token else "")
            count, response = _count(lambda q=query: light_client.get(f"/tasks/changes/?{q}"))
            counts.append(count)
            token = response.json()["sync_token"]
            if not response.json()["has_more"]:
                break

    assert max(counts) == 2  # the change log's range, then the live tasks it names
    assert min(counts) == 1  # a page without a live task (the empty last one) reads no tasks


# --- labels ---------------------------------------------------------------------------------


@pytest.fixture
def labelled_tasks(user, many_tasks):
    first, second = LabelFactory(owner=user), LabelFactory(owner=user)
    for index, task in enumerate(many_tasks):
        task.labels.set([first, second] if index % 2 else [first])
    return first, second


def test_a_list_of_labelled_tasks_is_still_one_query_a_page_and_the_projects_read(
    light_client, labelled_tasks
):
    count, response = _count(lambda: light_client.get("/tasks/?page_size=100"))

    assert response.status_code == 200
    assert all(task["labels"] for task in response.json()["results"])
    assert count == 1 + _readable()


def test_a_label_filtered_list_is_one_query_a_page_and_the_projects_read(
    light_client, labelled_tasks
):
    first, second = labelled_tasks
    url = f"/tasks/?page_size=50&label={first.pk}&label={second.pk}"
    counts = []
    while url:
        count, response = _count(lambda u=url: light_client.get(u))
        counts.append(count)
        url = response.json()["next"]

    assert counts == [1 + _readable()] * 3  # 125 tasks carry both labels


def test_create_with_labels_checks_them_and_links_them_in_two_more_queries(light_client, user):
    ids = [LabelFactory(owner=user).pk for _ in range(5)]

    count, response = _count(
        lambda: light_client.post("/tasks/", {"title": "x", "labels": ids}, format="json")
    )

    assert response.status_code == 201
    # The last sibling's position, the task, the labels' check and their links.
    assert count == 2 + 2 + _inbox() + _lock() + _record() + _events()


def test_an_update_that_keeps_the_labels_writes_no_link(light_client, user):
    label = LabelFactory(owner=user)
    task = TaskFactory(owner=user)
    task.labels.add(label)

    same, _ = _count(
        lambda: light_client.patch(f"/tasks/{task.pk}/", {"labels": [label.pk]}, format="json")
    )
    other, _ = _count(
        lambda: light_client.patch(f"/tasks/{task.pk}/", {"labels": []}, format="json")
    )

    # read, check the label, conditional UPDATE
    assert same == 2 + 1 + _membership_lock() + _role() + _record() + _events()
    # read, conditional UPDATE, delete the link
    assert other == 2 + 1 + _membership_lock() + _role() + _record() + _events()


# --- POST /tasks/bulk/ -------------------------------------------------------------------------


# Data statements of one operation, as in the single-task operations above. Per operation,
# before its change record: a create reads the Inbox and the last sibling's position and
# inserts; an update reads and writes conditionally; a delete reads the task, writes
# conditionally and reads the (here empty) level of subtasks. Creates and deletes also take
# the per-project lock (_lock()), updates and deletes ask the caller's role in the task's
# project (_role()), and updates share the membership lock (_membership_lock()).
def _bulk_cost(kind: str) -> int:
    return {
        "create": 2 + _inbox() + _lock(),
        "update": 2 + _membership_lock() + _role(),
        "delete": 3 + _role() + _lock(),
    }[kind]


# Once per call, before any operation runs (tasks.bulk._authorize): the projects of the tasks
# named, then the caller's roles there, so that a refusal by role is the call's 403 and nothing
# runs. A batch of creates into the Inbox names no other project and asks nothing.
def _bulk_call_cost(kind: str) -> int:
    return 0 if kind == "create" else 1 + _role()


def _bulk_operations(kind: str, tasks: list[Task]) -> list[dict]:
    if kind == "create":
        return [{"op": "create", "body": {"title": f"t{i}"}} for i in range(len(tasks))]
    if kind == "update":
        return [{"op": "update", "id": t.pk, "body": {"completed": True}} for t in tasks]
    return [{"op": "delete", "id": t.pk, "if_match": '"1"'} for t in tasks]


def _bulk_statements(light_client, user, kind: str, size: int, key: str | None) -> int:
    tasks = TaskFactory.create_batch(size, owner=user)
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    count, response = _count(
        lambda: light_client.post(
            "/tasks/bulk/",
            {"operations": _bulk_operations(kind, tasks)},
            format="json",
            **headers,
        )
    )
    assert response.status_code == 200
    assert {r["status"] for r in response.json()["results"]} == {
        {"create": 201, "update": 200, "delete": 204}[kind]
    }
    return count


@pytest.mark.parametrize("kind", ["create", "update", "delete"])
def test_bulk_costs_the_same_statements_per_operation_from_1_to_100(light_client, user, kind):
    counts = [_bulk_statements(light_client, user, kind, size, None) for size in (1, 10, 100)]

    per_operation = _bulk_cost(kind) + _record() + _events()
    call = _bulk_call_cost(kind)
    assert counts == [call + per_operation, call + 10 * per_operation, call + 100 * per_operation]


@pytest.mark.parametrize("kind", ["create", "update", "delete"])
def test_bulk_with_a_key_adds_only_the_stored_answer(light_client, user, kind):
    counts = [
        _bulk_statements(light_client, user, kind, size, f"{kind}-{size}") for size in (1, 10, 100)
    ]

    per_operation = _bulk_cost(kind) + _record() + _events()
    call = 1 + _bulk_call_cost(kind)  # the stored answer, and the roles
    assert counts == [call + per_operation, call + 10 * per_operation, call + 100 * per_operation]


@pytest.mark.parametrize(
    ("event_types", "writes"),
    [
        (["task.created"], {"created": 1}),
        (["task.updated"], {"created": 0}),
    ],
)
def test_a_task_write_asks_the_webhook_table_once_whether_anyone_listens(
    light_client, user, event_types, writes
):
    from tests.factories import WebhookFactory

    WebhookFactory(owner=user, event_types=event_types)

    with CaptureQueriesContext(connection) as queries:
        response = light_client.post("/tasks/", {"title": "t"}, format="json")

    assert response.status_code == 201
    reads = [q["sql"] for q in queries if 'FROM "webhooks_endpoint"' in q["sql"]]
    assert len(reads) == 1, reads
    outbox = [q["sql"] for q in queries if 'INTO "webhooks_event"' in q["sql"]]
    assert len(outbox) == writes["created"]
