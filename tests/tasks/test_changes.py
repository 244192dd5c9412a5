"""GET /tasks/changes/: full and incremental sync, deletions, tokens, over HTTP."""

from datetime import timedelta

import pytest
from django.core import signing
from rest_framework.test import APIClient

from taskapi.sync.tokens import FeedPosition, sync_token_issue
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _create(api_client, title="t") -> dict:
    response = api_client.post("/tasks/", {"title": title}, format="json")
    assert response.status_code == 201
    return response.json()


def _sync(api_client, token=None, page_size=None) -> dict:
    params = {}
    if token is not None:
        params["sync_token"] = token
    if page_size is not None:
        params["page_size"] = page_size
    response = api_client.get("/tasks/changes/", params)
    assert response.status_code == 200, response.content
    return response.json()


def _sync_all(api_client, token=None, page_size=None) -> tuple[dict, list[int], str, int]:
    """Follow has_more to the end: (tasks by id, deleted ids, last token, pages)."""
    tasks, deleted, pages = {}, [], 0
    while True:
        page = _sync(api_client, token, page_size)
        pages += 1
        tasks.update({task["id"]: task for task in page["tasks"]})
        deleted += page["deleted"]
        token = page["sync_token"]
        if not page["has_more"]:
            return tasks, deleted, token, pages


def test_a_full_sync_returns_the_current_tasks_and_a_token(api_client):
    first, second = _create(api_client, "a"), _create(api_client, "b")
    api_client.delete(f"/tasks/{_create(api_client, 'gone')['id']}/")

    page = _sync(api_client)

    assert page["tasks"] == [first, second]
    assert page["deleted"] == []  # a client syncing from scratch has nothing to delete
    assert page["has_more"] is False
    assert page["sync_token"]


def test_a_full_sync_comes_in_pages_that_say_there_is_more(api_client):
    created = [_create(api_client, f"t{i}") for i in range(5)]

    first = _sync(api_client, page_size=2)
    tasks, _deleted, _token, pages = _sync_all(api_client, page_size=2)

    assert first["has_more"] is True and len(first["tasks"]) == 2
    assert pages == 3
    assert list(tasks.values()) == created


def test_an_incremental_sync_returns_only_what_changed_since_the_token(api_client):
    untouched, changed = _create(api_client, "same"), _create(api_client, "before")
    token = _sync(api_client)["sync_token"]
    new = _create(api_client, "new")
    updated = api_client.patch(
        f"/tasks/{changed['id']}/", {"title": "after", "completed": True}, format="json"
    ).json()

    page = _sync(api_client, token)

    assert page["tasks"] == [new, updated]
    assert untouched["id"] not in [task["id"] for task in page["tasks"]]
    assert page["deleted"] == []


def test_a_sync_with_nothing_new_returns_nothing_and_a_fresh_token(api_client):
    _create(api_client)
    token = _sync(api_client)["sync_token"]

    page = _sync(api_client, token)

    assert (page["tasks"], page["deleted"], page["has_more"]) == ([], [], False)
    assert page["sync_token"]


def test_trashed_and_erased_tasks_are_listed_as_deleted(api_client):
    trashed, erased = _create(api_client, "trashed"), _create(api_client, "erased")
    token = _sync(api_client)["sync_token"]
    api_client.delete(f"/tasks/{trashed['id']}/")
    api_client.delete(f"/tasks/{erased['id']}/")
    api_client.delete(f"/tasks/trash/{erased['id']}/")

    page = _sync(api_client, token)

    assert page["tasks"] == []
    assert sorted(page["deleted"]) == sorted([trashed["id"], erased["id"]])


def test_a_task_changed_then_deleted_appears_only_as_deleted(api_client):
    task = _create(api_client)
    token = _sync(api_client)["sync_token"]
    api_client.patch(f"/tasks/{task['id']}/", {"title": "changed"}, format="json")
    api_client.delete(f"/tasks/{task['id']}/")

    page = _sync(api_client, token)

    assert (page["tasks"], page["deleted"]) == ([], [task["id"]])


def test_a_task_deleted_then_restored_appears_only_as_a_task(api_client):
    task = _create(api_client)
    token = _sync(api_client)["sync_token"]
    api_client.delete(f"/tasks/{task['id']}/")
    restored = api_client.post(f"/tasks/{task['id']}/restore/").json()

    page = _sync(api_client, token)

    assert (page["tasks"], page["deleted"]) == ([restored], [])


def test_completion_reaches_the_feed(api_client):
    task = _create(api_client)
    token = _sync(api_client)["sync_token"]
    completed = api_client.patch(f"/tasks/{task['id']}/", {"completed": True}, format="json").json()

    assert _sync(api_client, token)["tasks"] == [completed]


def test_an_idempotent_replay_adds_nothing_to_the_feed(api_client):
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-1"}
    first = api_client.post("/tasks/", {"title": "once"}, format="json", **headers).json()
    token = _sync(api_client)["sync_token"]

    api_client.post("/tasks/", {"title": "once"}, format="json", **headers)

    assert _sync(api_client)["tasks"] == [first]
    assert _sync(api_client, token)["tasks"] == []


def test_pages_applied_in_order_rebuild_the_server_state(api_client):
    tasks = [_create(api_client, f"t{i}") for i in range(8)]
    mirror, _deleted, token, _pages = _sync_all(api_client, page_size=3)
    for task in tasks[:3]:
        api_client.delete(f"/tasks/{task['id']}/")
    api_client.patch(f"/tasks/{tasks[4]['id']}/", {"priority": "high"}, format="json")
    api_client.post(f"/tasks/{tasks[0]['id']}/restore/")
    _create(api_client, "late")

    while True:
        page = _sync(api_client, token, page_size=2)
        mirror.update({task["id"]: task for task in page["tasks"]})
        for task_id in page["deleted"]:
            mirror.pop(task_id, None)
        token = page["sync_token"]
        if not page["has_more"]:
            break

    listed = api_client.get("/tasks/?page_size=100").json()["results"]
    assert mirror == {task["id"]: task for task in listed}


def test_another_users_changes_never_show_up(api_client, other_user):
    other = APIClient()
    other.force_authenticate(user=other_user)
    theirs = other.post("/tasks/", {"title": "theirs"}, format="json").json()
    other.delete(f"/tasks/{theirs['id']}/")
    _create(api_client, "mine")

    tasks, deleted, _token, _pages = _sync_all(api_client, page_size=1)

    assert theirs["id"] not in tasks and theirs["id"] not in deleted


@pytest.mark.parametrize(
    "token",
    ["", "garbled", "eyJzIjoxfQ:1abc:forged", "a" * 5000, "\u00e9t\u00e9", "1:2:3:4"],
)
def test_a_garbled_token_is_a_400_on_sync_token(api_client, token):
    response = api_client.get("/tasks/changes/", {"sync_token": token})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("sync_token", "invalid")
    ]


def test_another_users_token_is_the_same_400_as_a_garbled_one(api_client, other_user):
    theirs = sync_token_issue(owner_id=other_user.id, position=FeedPosition(seq=1, object_id=1))

    mine_garbled = api_client.get("/tasks/changes/", {"sync_token": "garbled"})
    stolen = api_client.get("/tasks/changes/", {"sync_token": theirs})

    assert stolen.status_code == 400
    assert stolen.content == mine_garbled.content


def test_a_token_signed_with_a_retired_key_still_works_while_it_is_a_fallback(
    api_client, user, settings
):
    old_key = settings.SECRET_KEY
    token = sync_token_issue(owner_id=user.id, position=FeedPosition(seq=0, object_id=0))
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    settings.SECRET_KEY_FALLBACKS = [old_key]

    assert api_client.get("/tasks/changes/", {"sync_token": token}).status_code == 200

    settings.SECRET_KEY_FALLBACKS = []
    assert api_client.get("/tasks/changes/", {"sync_token": token}).status_code == 400


def test_a_token_older_than_the_max_age_is_a_410_that_says_sync_from_scratch(
    api_client, user, settings, monkeypatch
):
    token = _sync(api_client)["sync_token"]
    issued = signing.b62_decode(token.split(":")[1])
    later = issued + int(timedelta(days=30).total_seconds()) + 1
    monkeypatch.setattr(signing.time, "time", lambda: later)

    response = api_client.get("/tasks/changes/", {"sync_token": token})

    assert response.status_code == 410
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/sync-token-expired"
    assert "from scratch" in problem["detail"]


def test_a_token_within_the_max_age_is_accepted(api_client, monkeypatch):
    token = _sync(api_client)["sync_token"]
    issued = signing.b62_decode(token.split(":")[1])
    monkeypatch.setattr(signing.time, "time", lambda: issued + 30 * 86400 - 60)

    assert api_client.get("/tasks/changes/", {"sync_token": token}).status_code == 200


def test_another_users_expired_token_is_a_400_not_a_410(api_client, monkeypatch):
    stranger = UserFactory()
    theirs = sync_token_issue(owner_id=stranger.id, position=FeedPosition(seq=1, object_id=1))
    issued = signing.b62_decode(theirs.split(":")[1])
    monkeypatch.setattr(signing.time, "time", lambda: issued + 40 * 86400)

    assert api_client.get("/tasks/changes/", {"sync_token": theirs}).status_code == 400


@pytest.mark.parametrize(
    ("page_size", "code"), [("0", "min_value"), ("501", "max_value"), ("x", "invalid")]
)
def test_page_size_is_bounded(api_client, page_size, code):
    response = api_client.get("/tasks/changes/", {"page_size": page_size})

    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("page_size", code)]


def test_the_feed_needs_authentication(client):
    assert client.get("/tasks/changes/").status_code == 401


def test_after_a_one_page_full_sync_the_next_sync_lists_no_deletions_it_never_had(api_client):
    kept = _create(api_client, "kept")
    for title in ("gone", "also gone"):
        api_client.delete(f"/tasks/{_create(api_client, title)['id']}/")

    full = _sync(api_client)
    after = _sync(api_client, full["sync_token"])

    assert (full["tasks"], full["has_more"]) == ([kept], False)
    assert (after["tasks"], after["deleted"]) == ([], [])
