"""Two members writing the same task: ETags, If-Match and Idempotency-Key keep their meaning,
and the changes feed carries each member's writes to the other, joins and departures included.
"""

import pytest
from rest_framework.test import APIClient

from taskapi.projects.models import Role
from taskapi.projects.services import (
    invitation_accept,
    invitation_create,
    member_remove,
    project_create,
)
from tests.conftest import token_pair_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_for(user).access}")
    return api


def _join(owner, project_id: int, member, role: str = Role.EDITOR) -> None:
    invitation = invitation_create(user=owner, project_id=project_id, email=member.email, role=role)
    invitation_accept(user=member, email=member.email, invitation_id=invitation.pk)


@pytest.fixture
def shared():
    owner, editor = UserFactory(), UserFactory()
    project = project_create(user=owner, data={"name": "Home"})
    _join(owner, project.pk, editor)
    return owner, editor, project.pk


def _sync(api: APIClient, token: str | None = None) -> dict:
    params = {} if token is None else {"sync_token": token}
    response = api.get("/tasks/changes/", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_an_etag_read_by_one_member_is_stale_after_the_others_write(shared):
    owner, editor, project_id = shared
    a, b = _client(owner), _client(editor)
    created = a.post("/tasks/", {"title": "shared", "project_id": project_id}, format="json")
    assert created.status_code == 201, created.content
    task_id, etag = created.json()["id"], created.headers["ETag"]
    assert b.get(f"/tasks/{task_id}/").headers["ETag"] == etag

    changed = b.patch(f"/tasks/{task_id}/", {"title": "by b"}, format="json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200, changed.content
    stale = a.patch(f"/tasks/{task_id}/", {"title": "by a"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert a.get(f"/tasks/{task_id}/").json()["title"] == "by b"
    assert a.get(f"/tasks/{task_id}/").headers["ETag"] == changed.headers["ETag"]


def test_idempotency_keys_are_each_members_own(shared):
    owner, editor, project_id = shared
    a, b = _client(owner), _client(editor)
    body = {"title": "once", "project_id": project_id}
    first = a.post("/tasks/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = a.post("/tasks/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    others = b.post("/tasks/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == others.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    # The same key from another member is another request: a second task, not a replay.
    assert others.json()["id"] != first.json()["id"]


def test_each_members_feed_carries_the_others_writes(shared):
    owner, editor, project_id = shared
    a, b = _client(owner), _client(editor)
    token_b = _sync(b)["sync_token"]
    created = a.post("/tasks/", {"title": "from a", "project_id": project_id}, format="json")
    task_id = created.json()["id"]
    page = _sync(b, token_b)
    assert [task["id"] for task in page["tasks"]] == [task_id]
    assert page["tasks"][0]["project_id"] == project_id
    token_a = _sync(a)["sync_token"]
    assert b.delete(f"/tasks/{task_id}/").status_code == 204
    assert _sync(a, token_a)["deleted"] == [task_id]


def test_a_departure_lists_the_projects_tasks_as_deleted_and_a_join_brings_them(shared):
    owner, editor, project_id = shared
    a, b = _client(owner), _client(editor)
    ids = [
        a.post("/tasks/", {"title": f"t{n}", "project_id": project_id}, format="json").json()["id"]
        for n in range(3)
    ]
    inbox_task = b.post("/tasks/", {"title": "b's own"}, format="json").json()["id"]
    first = _sync(b)
    assert {task["id"] for task in first["tasks"]} == {*ids, inbox_task}

    member_remove(user=owner, project_id=project_id, user_id=editor.pk)
    after = _sync(b, first["sync_token"])
    assert sorted(after["deleted"]) == sorted(ids)
    assert after["tasks"] == []
    assert b.get(f"/tasks/{ids[0]}/").status_code == 404

    _join(owner, project_id, editor, role=Role.VIEWER)
    back = _sync(b, after["sync_token"])
    assert sorted(task["id"] for task in back["tasks"]) == sorted(ids)
    assert back["deleted"] == []


def test_a_move_to_a_project_a_member_cannot_see_deletes_it_for_them(shared):
    owner, editor, project_id = shared
    a, b = _client(owner), _client(editor)
    private = project_create(user=owner, data={"name": "Private"}).pk
    task_id = a.post("/tasks/", {"title": "t", "project_id": project_id}, format="json").json()[
        "id"
    ]
    token_b = _sync(b)["sync_token"]
    moved = a.post(f"/tasks/{task_id}/move/", {"project_id": private}, format="json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["project_id"] == private
    assert _sync(b, token_b)["deleted"] == [task_id]
    assert b.get(f"/tasks/{task_id}/").status_code == 404


def test_labels_are_personal_on_a_shared_task(shared):
    owner, editor, project_id = shared
    a, b = _client(owner), _client(editor)
    label_a = a.post("/labels/", {"name": "mine"}, format="json").json()["id"]
    label_b = b.post("/labels/", {"name": "mine too"}, format="json").json()["id"]
    task_id = a.post(
        "/tasks/", {"title": "t", "project_id": project_id, "labels": [label_a]}, format="json"
    ).json()["id"]
    assert b.get(f"/tasks/{task_id}/").json()["labels"] == []
    assert b.patch(f"/tasks/{task_id}/", {"labels": [label_b]}, format="json").json()["labels"] == [
        label_b
    ]
    # B's write replaced B's links only: A's label is still on the task, for A alone.
    assert a.get(f"/tasks/{task_id}/").json()["labels"] == [label_a]
    listed = {task["id"]: task["labels"] for task in b.get("/tasks/").json()["results"]}
    assert listed[task_id] == [label_b]
    # Another member's label id is refused like a missing one.
    refused = b.patch(f"/tasks/{task_id}/", {"labels": [label_a]}, format="json")
    assert refused.status_code == 400


def _bulk(api: APIClient, *operations: dict):
    return api.post("/tasks/bulk/", {"operations": list(operations)}, format="json")


def test_bulk_authorizes_each_operation_and_a_role_refusal_is_the_calls_403(shared):
    owner, editor, project_id = shared
    viewer, stranger = UserFactory(), UserFactory()
    _join(owner, project_id, viewer, role=Role.VIEWER)
    a, v, s = _client(owner), _client(viewer), _client(stranger)
    task = a.post("/tasks/", {"title": "shared", "project_id": project_id}, format="json").json()
    before = a.get(f"/tasks/{task['id']}/")

    refused = _bulk(
        v,
        {"op": "create", "body": {"title": "in my inbox"}},
        {"op": "update", "id": task["id"], "body": {"title": "by the viewer"}},
    )
    assert refused.status_code == 403, refused.content
    assert refused.json()["permission"] == "task:write"
    # Nothing ran: not the create before the refused update either.
    assert v.get("/tasks/", {"project_id": project_id}).json()["results"] == [task]
    assert all(t["title"] != "in my inbox" for t in v.get("/tasks/").json()["results"])
    after = a.get(f"/tasks/{task['id']}/")
    assert (after.json(), after.headers["ETag"]) == (before.json(), before.headers["ETag"])

    # A viewer creating in the shared project is refused the same way.
    create = _bulk(v, {"op": "create", "body": {"title": "x", "project_id": project_id}})
    assert create.status_code == 403

    # A stranger's id of the shared task is a 404 result, like a missing id: no 403 leaks it.
    missing = _bulk(s, {"op": "update", "id": task["id"], "body": {"title": "x"}})
    absent = _bulk(s, {"op": "update", "id": 2**62, "body": {"title": "x"}})
    assert missing.status_code == absent.status_code == 200
    assert missing.json() == absent.json()
    assert missing.json()["results"][0]["status"] == 404

    # An editor's bulk in the shared project runs.
    done = _bulk(
        _client(editor), {"op": "update", "id": task["id"], "body": {"title": "by the editor"}}
    )
    assert done.status_code == 200
    assert done.json()["results"][0]["status"] == 200
