"""Status codes, headers, scoping, auth and error shape of the task routes, over HTTP."""

import pytest
from django.utils import timezone

from taskapi.projects.models import Project
from taskapi.tasks.models import IdempotencyRecord, Task
from tests.factories import TaskFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def _fields(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


# --- create ------------------------------------------------------------------------------------


def test_create_returns_201_with_location_and_etag(api_client, user):
    response = api_client.post("/tasks/", {"title": "Write the notes"}, format="json")

    assert response.status_code == 201
    task = Task.objects.get()
    assert response["Location"] == f"/tasks/{task.pk}/"
    assert response["ETag"] == '"1"'
    assert response.json() == {
        "id": task.pk,
        "title": "Write the notes",
        "description": "",
        "completed": False,
        "completed_at": None,
        "priority": "medium",
        "due_date": None,
        "due_at": None,
        "time_zone": None,
        "created_at": task.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": task.updated_at.isoformat().replace("+00:00", "Z"),
        "labels": [],
        "parent_id": None,
        "position": 0,
        "project_id": Project.objects.get(owner=user, inbox=True).pk,
        "assignee_id": None,
    }
    assert task.created_by_id == user.id


def test_create_ignores_read_only_owner_and_unknown_fields(api_client, user, other_user):
    body = {
        "title": "mine",
        "id": 999,
        "owner": other_user.id,
        "owner_id": other_user.id,
        "user": other_user.id,
        "version": 50,
        "completed_at": "2000-01-01T00:00:00Z",
        "created_at": "2000-01-01T00:00:00Z",
        "updated_at": "2000-01-01T00:00:00Z",
        "colour": "red",
    }

    response = api_client.post("/tasks/", body, format="json")

    assert response.status_code == 201
    task = Task.objects.get()
    assert task.pk != 999
    assert task.created_by_id == user.id
    assert task.project_id == Project.objects.get(owner=user, inbox=True).pk
    assert task.version == 1
    assert task.completed_at is None
    assert task.created_at.year > 2000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   \t "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": 42}, "title"),
        ({"title": None}, "title"),
        ({"title": "ok", "description": "x" * 10_001}, "description"),
        ({"title": "ok", "completed": "yes"}, "completed"),
        ({"title": "ok", "priority": "urgent"}, "priority"),
        ({"title": "ok", "due_date": "2026-13-01"}, "due_date"),
        ({"title": "ok", "due_date": "20261201"}, "due_date"),
        ({"title": "ok\x00"}, "title"),
    ],
)
def test_invalid_create_is_a_validation_problem_naming_the_field(api_client, body, field):
    response = api_client.post("/tasks/", body, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "/problems/validation-error"
    assert _fields(response) == [field]
    assert not Task.objects.exists()


def test_title_of_200_characters_is_accepted(api_client):
    response = api_client.post("/tasks/", {"title": "x" * 200}, format="json")

    assert response.status_code == 201


def test_create_without_a_token_is_401(client):
    response = client.post("/tasks/", {"title": "x"}, format="json")

    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "/problems/not-authenticated"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/tasks/"),
        ("get", "/tasks/1/"),
        ("put", "/tasks/1/"),
        ("patch", "/tasks/1/"),
        ("delete", "/tasks/1/"),
        ("get", "/tasks/changes/"),
        ("get", "/tasks/trash/"),
        ("post", "/tasks/1/restore/"),
        ("post", "/tasks/1/move/"),
        ("delete", "/tasks/trash/1/"),
        ("get", "/tasks/?label=1"),
        ("post", "/tasks/bulk/"),
    ],
)
def test_every_task_route_needs_a_token(client, method, path):
    response = getattr(client, method)(path, {"title": "x"}, format="json")

    assert response.status_code == 401


# --- idempotent create -------------------------------------------------------------------------


def test_repeated_create_with_the_same_key_replays_the_first_response(api_client):
    first = api_client.post(
        "/tasks/", {"title": "once"}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1"
    )

    again = api_client.post(
        "/tasks/", {"title": "once"}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1"
    )

    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["ETag"] == first["ETag"]
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Task.objects.count() == 1


def test_replay_matches_a_body_with_its_keys_in_another_order(api_client):
    api_client.post(
        "/tasks/",
        {"title": "once", "priority": "high"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )

    again = api_client.post(
        "/tasks/",
        {"priority": "high", "title": "once"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )

    assert again["Idempotent-Replayed"] == "true"


def test_same_key_with_another_body_is_422(api_client):
    api_client.post("/tasks/", {"title": "one"}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    response = api_client.post("/tasks/", {"title": "two"}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "/problems/idempotency-key-reused"
    assert list(Task.objects.values_list("title", flat=True)) == ["one"]


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "caf\u00e9"])
def test_malformed_idempotency_key_is_400_on_the_header(api_client, key):
    response = api_client.post("/tasks/", {"title": "x"}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 400
    assert _fields(response) == ["Idempotency-Key"]
    assert not Task.objects.exists()


def test_idempotency_key_of_255_visible_characters_is_accepted(api_client):
    response = api_client.post(
        "/tasks/", {"title": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="~" * 255
    )

    assert response.status_code == 201
    assert IdempotencyRecord.objects.count() == 1


def test_invalid_body_with_a_key_stores_nothing(api_client):
    api_client.post("/tasks/", {"title": ""}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    response = api_client.post("/tasks/", {"title": "ok"}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 201
    assert not response.has_header("Idempotent-Replayed")


def test_a_key_whose_record_keeps_vanishing_is_a_409_conflict(api_client, user, monkeypatch):
    # Forced: the 409 needs another request's record to be there when ours is inserted and gone
    # when we look it up, MAX_ATTEMPTS times in a row (purged or expired between the two steps).
    # No real schedule does that on demand, so a rival inserts the record inside our transaction,
    # just before our insert; it then vanishes with our rollback, exactly as if purged.
    from taskapi.tasks import idempotency

    real_task_create = idempotency.task_create
    rivals = []

    def task_create_while_a_rival_holds_the_key(*, user, data):
        rivals.append(
            IdempotencyRecord.objects.create(
                owner_id=user.id, key="k", fingerprint="0" * 64, status_code=201, response_body={}
            )
        )
        return real_task_create(user=user, data=data)

    monkeypatch.setattr(idempotency, "task_create", task_create_while_a_rival_holds_the_key)

    response = api_client.post("/tasks/", {"title": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 409
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "/problems/conflict"
    assert len(rivals) == idempotency.MAX_ATTEMPTS
    assert not Task.objects.exists()
    assert not IdempotencyRecord.objects.exists()


# --- read --------------------------------------------------------------------------------------


def test_get_returns_the_task_with_its_etag(api_client, user):
    task = TaskFactory(owner=user, title="read me", version=4)

    response = api_client.get(f"/tasks/{task.pk}/")

    assert response.status_code == 200
    assert response.json()["title"] == "read me"
    assert response["ETag"] == '"4"'


def test_get_with_the_current_etag_in_if_none_match_is_304(api_client, user):
    task = TaskFactory(owner=user, version=3)

    response = api_client.get(f"/tasks/{task.pk}/", HTTP_IF_NONE_MATCH='"2", W/"3"')

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == '"3"'


def test_get_with_an_old_etag_in_if_none_match_is_200(api_client, user):
    task = TaskFactory(owner=user, version=3)

    response = api_client.get(f"/tasks/{task.pk}/", HTTP_IF_NONE_MATCH='"2"')

    assert response.status_code == 200


# --- replace and update ------------------------------------------------------------------------


def test_put_replaces_and_resets_omitted_fields_to_defaults(api_client, user):
    task = TaskFactory(owner=user, description="old", priority="high", due_date="2026-01-01")

    response = api_client.put(f"/tasks/{task.pk}/", {"title": "new"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["description"], body["priority"], body["due_date"]) == (
        "new",
        "",
        "medium",
        None,
    )
    assert response["ETag"] == '"2"'


def test_put_without_a_title_is_400(api_client, user):
    task = TaskFactory(owner=user)

    response = api_client.put(f"/tasks/{task.pk}/", {"priority": "low"}, format="json")

    assert response.status_code == 400
    assert _fields(response) == ["title"]


def test_patch_changes_only_the_fields_sent(api_client, user):
    task = TaskFactory(owner=user, title="keep", priority="high")

    response = api_client.patch(f"/tasks/{task.pk}/", {"completed": True}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["priority"], body["completed"]) == ("keep", "high", True)
    assert body["completed_at"] is not None
    assert response["ETag"] == '"2"'


def test_patch_with_null_due_date_removes_it(api_client, user):
    task = TaskFactory(owner=user, due_date="2026-01-01")

    response = api_client.patch(f"/tasks/{task.pk}/", {"due_date": None}, format="json")

    assert response.json()["due_date"] is None


def test_patch_with_null_title_is_400(api_client, user):
    task = TaskFactory(owner=user)

    response = api_client.patch(f"/tasks/{task.pk}/", {"title": None}, format="json")

    assert response.status_code == 400


def test_patch_cannot_set_completed_at(api_client, user):
    task = TaskFactory(owner=user)

    response = api_client.patch(
        f"/tasks/{task.pk}/", {"completed_at": "2000-01-01T00:00:00Z"}, format="json"
    )

    assert response.json()["completed_at"] is None


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_stale_if_match_is_412_and_changes_nothing(api_client, user, method):
    task = TaskFactory(owner=user, title="before", version=2)

    response = getattr(api_client, method)(
        f"/tasks/{task.pk}/", {"title": "after"}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 412
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "/problems/precondition-failed"
    task.refresh_from_db()
    assert (task.title, task.version) == ("before", 2)


@pytest.mark.parametrize("if_match", ['"2"', '"9", "2"', "*"])
@pytest.mark.parametrize("method", ["put", "patch"])
def test_matching_if_match_lets_the_write_through(api_client, user, method, if_match):
    task = TaskFactory(owner=user, version=2)

    response = getattr(api_client, method)(
        f"/tasks/{task.pk}/", {"title": "after"}, format="json", HTTP_IF_MATCH=if_match
    )

    assert response.status_code == 200
    assert response["ETag"] == '"3"'


def test_weak_etag_never_matches_if_match(api_client, user):
    task = TaskFactory(owner=user, version=2)

    response = api_client.patch(
        f"/tasks/{task.pk}/", {"title": "x"}, format="json", HTTP_IF_MATCH='W/"2"'
    )

    assert response.status_code == 412


def test_stale_if_match_wins_over_an_invalid_body(api_client, user):
    task = TaskFactory(owner=user, version=2)

    response = api_client.patch(
        f"/tasks/{task.pk}/", {"title": ""}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 412


# --- delete ------------------------------------------------------------------------------------


def test_delete_is_204_with_an_empty_body(api_client, user):
    task = TaskFactory(owner=user)

    response = api_client.delete(f"/tasks/{task.pk}/")

    assert response.status_code == 204
    assert response.content == b""
    assert Task.objects.get(pk=task.pk).deleted_at is not None  # in the trash
    assert api_client.get(f"/tasks/{task.pk}/").status_code == 404


def test_delete_with_the_current_etag_deletes(api_client, user):
    task = TaskFactory(owner=user, version=5)

    response = api_client.delete(f"/tasks/{task.pk}/", HTTP_IF_MATCH='"5"')

    assert response.status_code == 204
    assert Task.objects.get(pk=task.pk).deleted_at is not None


def test_delete_of_a_missing_task_with_if_match_star_is_404(api_client):
    response = api_client.delete("/tasks/12345/", HTTP_IF_MATCH="*")

    assert response.status_code == 404


# --- scoping -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_users_task_is_the_same_404_as_a_missing_one(api_client, method):
    theirs = TaskFactory(title="theirs")
    missing_id = theirs.pk + 1000

    response = getattr(api_client, method)(f"/tasks/{theirs.pk}/", {"title": "x"}, format="json")
    missing = getattr(api_client, method)(f"/tasks/{missing_id}/", {"title": "x"}, format="json")

    assert response.status_code == missing.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json() == missing.json()
    assert response.json()["type"] == "/problems/not-found"
    theirs.refresh_from_db()
    assert (theirs.title, theirs.version) == ("theirs", 1)


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_users_task_is_404_even_with_its_etag(api_client, method):
    theirs = TaskFactory()

    response = getattr(api_client, method)(
        f"/tasks/{theirs.pk}/", {"title": "x"}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 404
    assert Task.objects.get(pk=theirs.pk).version == 1


@pytest.mark.parametrize("task_id", [2**63 - 1, 2**63, 10**30, 0])
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_out_of_range_task_ids_are_404_not_500(api_client, task_id, method):
    response = getattr(api_client, method)(f"/tasks/{task_id}/", {"title": "x"}, format="json")

    assert response.status_code == 404
    assert response.json()["type"] == "/problems/not-found"


def test_routes_answer_a_light_token_user(light_client, user):
    created = light_client.post("/tasks/", {"title": "light"}, format="json")
    task_id = created.json()["id"]

    assert created.status_code == 201
    assert light_client.get(f"/tasks/{task_id}/").status_code == 200
    assert (
        light_client.patch(f"/tasks/{task_id}/", {"completed": True}, format="json").status_code
        == 200
    )
    assert light_client.get("/tasks/").json()["results"][0]["id"] == task_id
    assert light_client.delete(f"/tasks/{task_id}/").status_code == 204
    assert light_client.get("/tasks/trash/").json()["results"][0]["id"] == task_id
    assert light_client.get("/tasks/changes/").json()["tasks"] == []
    assert light_client.post(f"/tasks/{task_id}/restore/").status_code == 200
    assert light_client.get("/tasks/changes/").json()["tasks"][0]["id"] == task_id
    assert light_client.delete(f"/tasks/{task_id}/").status_code == 204
    assert light_client.delete(f"/tasks/trash/{task_id}/").status_code == 204
    assert Task.objects.filter(created_by=user).count() == 0


# --- a write that keeps losing its race ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "trashed"),
    [
        ("put", "/tasks/{id}/", {"title": "mine"}, False),
        ("patch", "/tasks/{id}/", {"title": "mine"}, False),
        ("post", "/tasks/{id}/restore/", None, True),
    ],
)
def test_a_write_that_loses_every_race_is_a_409_that_changed_nothing(
    api_client, user, monkeypatch, method, path, body, trashed
):
    # Forced: a rival write must land between each read and its conditional UPDATE,
    # MAX_WRITE_ATTEMPTS times in a row; here it lands when the service takes the project's
    # live tasks, after its read (an update: to build the UPDATE; a restore: the siblings).
    from django.db.models import F

    from taskapi.tasks import services

    deleted_at = timezone.now() if trashed else None
    task = TaskFactory(owner=user, title="theirs", deleted_at=deleted_at)
    real = services.project_tasks
    rivals = []

    def rival_writes_first(*, project_id):
        rivals.append(Task.objects.filter(pk=task.pk).update(version=F("version") + 1))
        return real(project_id=project_id)

    monkeypatch.setattr(services, "project_tasks", rival_writes_first)

    response = getattr(api_client, method)(path.format(id=task.pk), body, format="json")

    assert response.status_code == 409
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "/problems/conflict"
    assert len(rivals) == services.MAX_WRITE_ATTEMPTS
    task.refresh_from_db()
    assert (task.title, task.deleted_at, task.version) == ("theirs", deleted_at, 1 + len(rivals))
