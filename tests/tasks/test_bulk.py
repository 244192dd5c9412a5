"""POST /tasks/bulk/: results per operation, the envelope's 400s, isolation, idempotency."""

import pytest

from taskapi.core.scoping import MAX_ID
from taskapi.sync.models import Change
from taskapi.tasks import bulk, idempotency
from taskapi.tasks.models import IdempotencyRecord, Task
from tests.factories import TaskFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
URL = "/tasks/bulk/"


def _bulk(api_client, operations, **headers):
    return api_client.post(URL, {"operations": operations}, format="json", **headers)


def _fields(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


# --- results -----------------------------------------------------------------------------------


def test_a_mixed_batch_answers_one_result_per_operation_in_order(api_client, user):
    done, gone = TaskFactory(owner=user), TaskFactory(owner=user)

    response = _bulk(
        api_client,
        [
            {"op": "create", "body": {"title": "new", "priority": "high"}},
            {"op": "update", "id": done.pk, "body": {"completed": True}},
            {"op": "delete", "id": gone.pk},
        ],
    )

    assert response.status_code == 200
    created, updated, deleted = response.json()["results"]
    new = Task.objects.get(title="new")
    assert created == {
        "status": 201,
        "etag": '"1"',
        "body": {**created["body"], "id": new.pk, "title": "new", "priority": "high"},
    }
    assert updated["status"] == 200
    assert updated["etag"] == '"2"'
    assert updated["body"]["completed"] is True
    assert updated["body"]["completed_at"] is not None
    assert deleted == {"status": 204}
    gone.refresh_from_db()
    assert gone.deleted_at is not None


def test_a_result_body_is_what_the_single_operation_answers(api_client, user):
    task = TaskFactory(owner=user)

    result = _bulk(api_client, [{"op": "update", "id": task.pk, "body": {"title": "t2"}}])
    single = api_client.get(f"/tasks/{task.pk}/")

    assert result.json()["results"][0]["body"] == single.json()
    assert result.json()["results"][0]["etag"] == single["ETag"]


def test_a_failing_operation_does_not_undo_the_others(api_client, user):
    task = TaskFactory(owner=user, title="before")

    response = _bulk(
        api_client,
        [
            {"op": "create", "body": {"title": "first"}},
            {"op": "update", "id": task.pk, "body": {"title": ""}},
            {"op": "create", "body": {"title": "third"}},
        ],
    )

    assert [r["status"] for r in response.json()["results"]] == [201, 400, 201]
    assert set(Task.objects.values_list("title", flat=True)) == {"before", "first", "third"}


def test_an_invalid_body_is_a_400_result_naming_the_field_inside_it(api_client):
    response = _bulk(api_client, [{"op": "create", "body": {"title": "x", "priority": "urgent"}}])

    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert result["status"] == 400
    assert result["body"]["type"] == "/problems/validation-error"
    assert [e["field"] for e in result["body"]["errors"]] == ["priority"]
    assert not Task.objects.exists()


def test_a_nul_character_in_a_body_is_a_400_result(api_client):
    response = _bulk(api_client, [{"op": "create", "body": {"title": "a\u0000b"}}])

    (result,) = response.json()["results"]
    assert result["status"] == 400
    assert [e["field"] for e in result["body"]["errors"]] == ["title"]


def test_a_stale_if_match_is_a_412_result_that_changes_nothing(api_client, user):
    task = TaskFactory(owner=user, title="before", version=3)

    response = _bulk(
        api_client,
        [{"op": "update", "id": task.pk, "if_match": '"2"', "body": {"title": "after"}}],
    )

    (result,) = response.json()["results"]
    assert result["status"] == 412
    assert result["body"]["type"] == "/problems/precondition-failed"
    task.refresh_from_db()
    assert (task.title, task.version) == ("before", 3)


def test_an_if_match_with_a_nul_character_matches_nothing(api_client, user):
    task = TaskFactory(owner=user)

    response = _bulk(api_client, [{"op": "delete", "id": task.pk, "if_match": '"1\u0000"'}])

    assert response.json()["results"][0]["status"] == 412


def test_a_matching_if_match_lets_the_update_through(api_client, user):
    task = TaskFactory(owner=user, version=3)

    response = _bulk(
        api_client, [{"op": "update", "id": task.pk, "if_match": '"3"', "body": {"title": "ok"}}]
    )

    assert response.json()["results"][0]["etag"] == '"4"'


def test_a_stale_if_match_on_delete_is_a_412_result(api_client, user):
    task = TaskFactory(owner=user, version=3)

    response = _bulk(api_client, [{"op": "delete", "id": task.pk, "if_match": '"1"'}])

    assert response.json()["results"][0]["status"] == 412
    task.refresh_from_db()
    assert task.deleted_at is None


def test_a_stale_if_match_wins_over_an_invalid_body_as_in_patch(api_client, user):
    task = TaskFactory(owner=user, version=3)

    response = _bulk(
        api_client, [{"op": "update", "id": task.pk, "if_match": '"1"', "body": {"title": ""}}]
    )

    assert response.json()["results"][0]["status"] == 412


def test_operations_run_in_order_so_a_later_one_sees_an_earlier_write(api_client, user):
    task = TaskFactory(owner=user)

    response = _bulk(
        api_client,
        [
            {"op": "update", "id": task.pk, "body": {"title": "one"}},
            {"op": "update", "id": task.pk, "if_match": '"2"', "body": {"title": "two"}},
            {"op": "delete", "id": task.pk},
            {"op": "update", "id": task.pk, "body": {"title": "three"}},
        ],
    )

    assert [r["status"] for r in response.json()["results"]] == [200, 200, 204, 404]


def test_an_empty_patch_body_changes_nothing(api_client, user):
    task = TaskFactory(owner=user, version=5)

    response = _bulk(api_client, [{"op": "update", "id": task.pk, "body": {}}])

    assert response.json()["results"][0]["etag"] == '"5"'


# --- isolation ---------------------------------------------------------------------------------


def _results(response) -> list[dict]:
    return response.json()["results"]


def test_another_users_ids_are_404_results_like_missing_ids_and_stay_unchanged(
    api_client, other_user
):
    theirs = TaskFactory(owner=other_user, title="theirs", version=4)
    missing = theirs.pk + 1000
    operations = [
        {"op": "update", "id": "ID", "body": {"title": "mine now"}},
        {"op": "update", "id": "ID", "if_match": '"4"', "body": {"title": "mine now"}},
        {"op": "delete", "id": "ID"},
        {"op": "delete", "id": "ID", "if_match": '"4"'},
    ]

    def with_id(task_id):
        return [{**operation, "id": task_id} for operation in operations]

    on_theirs = _bulk(api_client, with_id(theirs.pk))
    on_missing = _bulk(api_client, with_id(missing))

    assert _results(on_theirs) == _results(on_missing)
    assert {r["status"] for r in _results(on_theirs)} == {404}
    theirs.refresh_from_db()
    assert (theirs.title, theirs.version, theirs.deleted_at) == ("theirs", 4, None)


# Found by the fuzzer: JSON Schema's `integer` includes numbers such as 7.0.
def test_an_id_written_as_an_integral_number_names_the_task(api_client, user):
    task = TaskFactory(owner=user)

    response = _bulk(api_client, [{"op": "delete", "id": float(task.pk)}])

    assert response.json()["results"] == [{"status": 204}]


def test_a_huge_integral_number_as_id_is_a_404_result(api_client):
    response = _bulk(api_client, [{"op": "delete", "id": 1e300}])

    assert response.json()["results"][0]["status"] == 404


def test_a_task_in_the_trash_is_a_404_result(api_client, user):
    task = TaskFactory(owner=user)
    api_client.delete(f"/tasks/{task.pk}/")

    response = _bulk(api_client, [{"op": "update", "id": task.pk, "body": {"title": "x"}}])

    assert response.json()["results"][0]["status"] == 404


# Beyond 2**64 - 1 the JSON parser reads an integer as a float: it names no task either.
@pytest.mark.parametrize("task_id", [MAX_ID, MAX_ID + 1, 2**64 - 1, 2**70])
def test_ids_beyond_any_task_are_404_results(api_client, task_id):
    response = _bulk(
        api_client,
        [
            {"op": "update", "id": task_id, "body": {"title": "x"}},
            {"op": "delete", "id": task_id},
        ],
    )

    assert response.status_code == 200
    assert [r["status"] for r in _results(response)] == [404, 404]


# --- the envelope ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "operations"),
        ({"operations": None}, "operations"),
        ({"operations": {"op": "create"}}, "operations"),
        ({"operations": []}, "operations"),
        ({"operations": [{"op": "create", "body": {"title": "x"}}] * 101}, "operations"),
        ({"operations": ["create"]}, "operations.0"),
        ({"operations": [None]}, "operations.0"),
        ({"operations": [{"body": {"title": "x"}}]}, "operations.0.op"),
        ({"operations": [{"op": "replace", "id": 1, "body": {}}]}, "operations.0.op"),
        ({"operations": [{"op": ["create"], "body": {}}]}, "operations.0.op"),
        ({"operations": [{"op": "create\u0000", "body": {}}]}, "operations.0.op"),
        ({"operations": [{"op": None, "body": {}}]}, "operations.0.op"),
        ({"operations": [{"op": "create"}]}, "operations.0.body"),
        ({"operations": [{"op": "create", "body": "title"}]}, "operations.0.body"),
        ({"operations": [{"op": "update", "id": 1, "body": None}]}, "operations.0.body"),
        ({"operations": [{"op": "delete"}]}, "operations.0.id"),
        ({"operations": [{"op": "delete", "id": "1"}]}, "operations.0.id"),
        ({"operations": [{"op": "delete", "id": 1.5}]}, "operations.0.id"),
        ({"operations": [{"op": "delete", "id": 0.0}]}, "operations.0.id"),
        ({"operations": [{"op": "delete", "id": True}]}, "operations.0.id"),
        ({"operations": [{"op": "delete", "id": 0}]}, "operations.0.id"),
        ({"operations": [{"op": "delete", "id": -3}]}, "operations.0.id"),
        ({"operations": [{"op": "delete", "id": None}]}, "operations.0.id"),
        ({"operations": [{"op": "delete", "id": 1, "if_match": 7}]}, "operations.0.if_match"),
        ({"operations": [{"op": "delete", "id": 1, "if_match": None}]}, "operations.0.if_match"),
    ],
)
def test_a_batch_that_cannot_be_read_is_a_400_naming_the_place_and_applies_nothing(
    api_client, body, field
):
    response = api_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "/problems/validation-error"
    assert _fields(response) == [field]


def test_one_unreadable_operation_refuses_the_whole_call(api_client, user):
    response = _bulk(
        api_client,
        [{"op": "create", "body": {"title": "fine"}}, {"op": "delete", "id": "seven"}],
    )

    assert response.status_code == 400
    assert _fields(response) == ["operations.1.id"]
    assert not Task.objects.exists()


def test_every_unreadable_place_is_named(api_client):
    response = _bulk(api_client, [{"op": "nope"}, {"op": "update"}])

    assert _fields(response) == ["operations.0.op", "operations.1.id", "operations.1.body"]


@pytest.mark.parametrize("body", [[], "operations", 7, True])
def test_a_body_that_is_not_an_object_is_a_400_about_the_whole_body(api_client, body):
    response = api_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert _fields(response) == [None]


def test_exactly_100_operations_are_accepted(api_client):
    response = _bulk(api_client, [{"op": "create", "body": {"title": "x"}}] * bulk.MAX_OPERATIONS)

    assert response.status_code == 200
    assert len(_results(response)) == 100
    assert Task.objects.count() == 100


def test_unknown_members_of_an_operation_are_ignored(api_client, user):
    task = TaskFactory(owner=user)

    response = _bulk(
        api_client,
        [
            {"op": "create", "id": task.pk, "if_match": 5, "body": {"title": "x"}, "colour": 1},
            {"op": "delete", "id": task.pk, "body": "ignored"},
        ],
    )

    assert [r["status"] for r in _results(response)] == [201, 204]


def test_bulk_needs_a_token(client):
    response = client.post(URL, {"operations": []}, format="json")

    assert response.status_code == 401
    assert response.json()["type"] == "/problems/not-authenticated"


def test_a_body_that_is_not_json_is_a_415(api_client):
    response = api_client.post(URL, "operations", content_type="text/plain")

    assert response.status_code == 415


# --- the change log ----------------------------------------------------------------------------


def test_every_write_of_a_batch_reaches_the_change_log(api_client, user):
    kept, gone = TaskFactory(owner=user), TaskFactory(owner=user)

    response = _bulk(
        api_client,
        [
            {"op": "create", "body": {"title": "new"}},
            {"op": "update", "id": kept.pk, "body": {"title": "changed"}},
            {"op": "delete", "id": gone.pk},
            {"op": "delete", "id": gone.pk},
        ],
    )

    new_id = _results(response)[0]["body"]["id"]
    changes = {c.object_id: c.deleted for c in Change.objects.filter(owner_id=user.id)}
    assert changes == {new_id: False, kept.pk: False, gone.pk: True}


# --- Idempotency-Key ---------------------------------------------------------------------------


def test_a_repeat_with_the_same_key_replays_the_whole_answer_and_writes_nothing(api_client, user):
    task = TaskFactory(owner=user)
    operations = [
        {"op": "create", "body": {"title": "once"}},
        {"op": "update", "id": task.pk, "body": {"title": "twice?"}},
        {"op": "delete", "id": task.pk + 1000},
    ]
    first = _bulk(api_client, operations, HTTP_IDEMPOTENCY_KEY="batch-1")
    task.refresh_from_db()

    again = _bulk(api_client, operations, HTTP_IDEMPOTENCY_KEY="batch-1")

    assert again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Task.objects.filter(title="once").count() == 1
    assert Task.objects.get(pk=task.pk).version == task.version


def test_the_same_key_with_another_batch_is_422(api_client):
    _bulk(api_client, [{"op": "create", "body": {"title": "one"}}], HTTP_IDEMPOTENCY_KEY="k")

    response = _bulk(
        api_client, [{"op": "create", "body": {"title": "two"}}], HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 422
    assert response.json()["type"] == "/problems/idempotency-key-reused"
    assert list(Task.objects.values_list("title", flat=True)) == ["one"]


# One body both operations accept (each ignores the other's fields): only the operation tells
# the two requests apart.
AMBIGUOUS = {"title": "one", "operations": [{"op": "create", "body": {"title": "one"}}]}


def test_a_key_used_on_create_is_not_replayed_by_bulk(api_client):
    api_client.post("/tasks/", AMBIGUOUS, format="json", HTTP_IDEMPOTENCY_KEY="k")

    response = api_client.post(URL, AMBIGUOUS, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 422
    assert Task.objects.count() == 1


def test_a_key_used_on_bulk_is_not_replayed_by_create(api_client):
    api_client.post(URL, AMBIGUOUS, format="json", HTTP_IDEMPOTENCY_KEY="k")

    response = api_client.post("/tasks/", AMBIGUOUS, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 422
    assert Task.objects.count() == 1


def test_a_record_stored_before_bulk_existed_still_replays_its_create(api_client, user):
    # Records of POST /tasks/ are fingerprinted over the body alone, as they always were.
    first = api_client.post("/tasks/", {"title": "one"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    record = IdempotencyRecord.objects.get()
    assert record.fingerprint == idempotency.request_fingerprint({"title": "one"})

    again = api_client.post("/tasks/", {"title": "one"}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


def test_a_malformed_key_is_400_on_the_header(api_client):
    response = _bulk(
        api_client, [{"op": "create", "body": {"title": "x"}}], HTTP_IDEMPOTENCY_KEY="has space"
    )

    assert response.status_code == 400
    assert _fields(response) == ["Idempotency-Key"]
    assert not Task.objects.exists()


def test_an_unreadable_batch_with_a_key_stores_nothing(api_client):
    _bulk(api_client, [], HTTP_IDEMPOTENCY_KEY="k")

    response = _bulk(
        api_client, [{"op": "create", "body": {"title": "x"}}], HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 200
    assert not response.has_header("Idempotent-Replayed")


def test_a_key_whose_record_keeps_vanishing_is_a_409_that_applied_nothing(
    api_client, user, monkeypatch
):
    # As for POST /tasks/: a rival's record appears inside our transaction just before our
    # insert and vanishes with our rollback, MAX_ATTEMPTS times in a row.
    from taskapi.tasks import views

    real_task_bulk = views.task_bulk
    rivals = []

    def task_bulk_while_a_rival_holds_the_key(*, user, operations):
        rivals.append(
            IdempotencyRecord.objects.create(
                owner_id=user.id, key="k", fingerprint="0" * 64, status_code=200, response_body={}
            )
        )
        return real_task_bulk(user=user, operations=operations)

    monkeypatch.setattr(views, "task_bulk", task_bulk_while_a_rival_holds_the_key)

    response = _bulk(
        api_client, [{"op": "create", "body": {"title": "x"}}], HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 409
    assert response.json()["type"] == "/problems/conflict"
    assert len(rivals) == idempotency.MAX_ATTEMPTS
    assert not Task.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_with_a_key_the_writes_and_the_stored_answer_commit_together(api_client, user, monkeypatch):
    # The database fails while storing the answer, after the operations ran: none may stay.
    from django.db import OperationalError

    def refuse(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(IdempotencyRecord.objects, "create", refuse)
    task = TaskFactory(owner=user, title="before")

    response = _bulk(
        api_client,
        [
            {"op": "create", "body": {"title": "x"}},
            {"op": "update", "id": task.pk, "body": {"title": "after"}},
        ],
        HTTP_IDEMPOTENCY_KEY="k",
    )

    assert response.status_code == 503
    assert response["Retry-After"]
    assert list(Task.objects.values_list("title", flat=True)) == ["before"]
    assert not Change.objects.exists()


def test_an_id_beyond_64_bits_is_a_404_result(api_client):
    # The JSON parser reads an integer beyond 64 bits as a float; it still names no task.
    response = api_client.post(
        URL,
        b'{"operations": [{"op": "delete", "id": 1180591620717411303424}]}',
        content_type="application/json",
    )

    (result,) = response.json()["results"]
    assert (result["status"], result["body"]["type"]) == (404, "/problems/not-found")
