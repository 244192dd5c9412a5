"""The trash: DELETE moves a task there, restore brings it back, erase and the purge end it."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from taskapi.sync.models import Change
from taskapi.tasks.models import Task
from taskapi.tasks.services import trash_purge
from tests.factories import TaskFactory

pytestmark = pytest.mark.django_db


def _create(api_client, **fields) -> dict:
    response = api_client.post("/tasks/", {"title": "kept", **fields}, format="json")
    assert response.status_code == 201
    return response.json()


def test_a_deleted_task_is_in_the_trash_with_when_it_was_deleted(api_client):
    task = _create(api_client, description="as it was", priority="high")

    api_client.delete(f"/tasks/{task['id']}/")
    page = api_client.get("/tasks/trash/").json()

    assert page["previous"] is None and page["next"] is None
    [trashed] = page["results"]
    assert {**trashed, "deleted_at": None} == {**task, "deleted_at": None}
    assert trashed["deleted_at"].endswith("Z")


def test_a_task_in_the_trash_is_404_for_every_operation_on_its_url(api_client):
    task_id = _create(api_client)["id"]
    api_client.delete(f"/tasks/{task_id}/")

    answers = [
        api_client.get(f"/tasks/{task_id}/").status_code,
        api_client.put(f"/tasks/{task_id}/", {"title": "x"}, format="json").status_code,
        api_client.patch(f"/tasks/{task_id}/", {"title": "x"}, format="json").status_code,
        api_client.delete(f"/tasks/{task_id}/").status_code,
    ]

    assert answers == [404, 404, 404, 404]
    assert api_client.get("/tasks/").json()["results"] == []


def test_the_trash_lists_the_most_recently_deleted_first_in_cursor_pages(api_client):
    ids = [_create(api_client, title=f"t{i}")["id"] for i in range(5)]
    for task_id in ids:
        api_client.delete(f"/tasks/{task_id}/")

    seen, url = [], "/tasks/trash/?page_size=2"
    while url:
        page = api_client.get(url).json()
        seen += [task["id"] for task in page["results"]]
        url = page["next"]

    assert seen == ids[::-1]


def test_a_garbled_trash_cursor_is_a_400_on_cursor(api_client):
    response = api_client.get("/tasks/trash/?cursor=garbled")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize("value", ["0", "9223372036854775808", "x"])
def test_a_project_id_that_is_no_id_is_a_400_on_project_id_in_the_trash(api_client, value):
    # As GET /tasks/?project_id= answers it; out of range was a 500 (found by Schemathesis).
    response = api_client.get(f"/tasks/trash/?project_id={value}")

    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["project_id"]


def test_a_list_cursor_is_not_a_trash_cursor(api_client):
    for i in range(3):
        _create(api_client, title=f"t{i}")
    next_link = api_client.get("/tasks/?page_size=1").json()["next"]
    cursor = next_link.split("cursor=")[1].split("&")[0]

    response = api_client.get(f"/tasks/trash/?cursor={cursor}")

    assert response.status_code == 400


def test_restore_brings_the_task_back_with_a_new_etag(api_client):
    task = _create(api_client)
    etag = api_client.get(f"/tasks/{task['id']}/")["ETag"]
    api_client.delete(f"/tasks/{task['id']}/")

    response = api_client.post(f"/tasks/{task['id']}/restore/")

    assert response.status_code == 200
    body = response.json()
    assert {**body, "updated_at": None} == {**task, "updated_at": None}
    assert body["updated_at"] > task["updated_at"]
    assert response["ETag"] != etag
    assert api_client.get(f"/tasks/{task['id']}/").json() == body
    assert api_client.get("/tasks/trash/").json()["results"] == []


def test_restore_honours_if_match(api_client):
    task_id = _create(api_client)["id"]
    etag = api_client.get(f"/tasks/{task_id}/")["ETag"]
    api_client.delete(f"/tasks/{task_id}/")

    stale = api_client.post(f"/tasks/{task_id}/restore/", HTTP_IF_MATCH='"999"')
    assert stale.status_code == 412
    assert Task.objects.get(pk=task_id).deleted_at is not None

    current = api_client.post(f"/tasks/{task_id}/restore/", HTTP_IF_MATCH=etag)
    assert current.status_code == 200


@pytest.mark.parametrize("state", ["live", "erased", "missing"])
def test_restore_of_a_task_not_in_the_trash_is_404(api_client, state):
    task_id = _create(api_client)["id"] if state != "missing" else 10**12
    if state == "erased":
        api_client.delete(f"/tasks/{task_id}/")
        api_client.delete(f"/tasks/trash/{task_id}/")

    response = api_client.post(f"/tasks/{task_id}/restore/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_another_users_trash_is_invisible_and_untouchable(api_client, other_user):
    theirs = TaskFactory(owner=other_user, deleted_at=timezone.now())

    assert api_client.get("/tasks/trash/").json()["results"] == []
    assert api_client.post(f"/tasks/{theirs.pk}/restore/").status_code == 404
    assert api_client.delete(f"/tasks/trash/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.deleted_at is not None


def test_restore_and_erase_of_an_id_beyond_int64_are_404(api_client):
    too_big = 2**63

    assert api_client.post(f"/tasks/{too_big}/restore/").status_code == 404
    assert api_client.delete(f"/tasks/trash/{too_big}/").status_code == 404


def test_erase_removes_the_task_for_good(api_client):
    task_id = _create(api_client)["id"]
    api_client.delete(f"/tasks/{task_id}/")

    response = api_client.delete(f"/tasks/trash/{task_id}/")

    assert response.status_code == 204
    assert response.content == b""
    assert not Task.objects.filter(pk=task_id).exists()
    assert api_client.delete(f"/tasks/trash/{task_id}/").status_code == 404


def test_erase_refuses_a_task_that_is_not_in_the_trash(api_client):
    task_id = _create(api_client)["id"]

    assert api_client.delete(f"/tasks/trash/{task_id}/").status_code == 404
    assert Task.objects.get(pk=task_id).deleted_at is None


def test_purge_erases_only_tasks_in_the_trash_past_the_retention(user, settings):
    now = timezone.now()
    expired = TaskFactory.create_batch(3, owner=user, deleted_at=now - timedelta(days=31))
    recent = TaskFactory(owner=user, deleted_at=now - timedelta(days=29))
    live = TaskFactory(owner=user)

    erased = trash_purge(batch_size=2)  # two batches and an empty one

    assert erased == 3
    remaining = set(Task.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, live.pk}
    assert not remaining & {task.pk for task in expired}


def test_purge_follows_the_retention_setting(user, settings):
    settings.TRASH_RETENTION = timedelta(days=2)
    TaskFactory(owner=user, deleted_at=timezone.now() - timedelta(days=3))

    assert trash_purge() == 1


def test_purge_expired_command_reports_what_it_erased(user, settings):
    TaskFactory(owner=user, deleted_at=timezone.now() - timedelta(days=40))
    old_change = Change.objects.create(
        owner=user,
        kind="task",
        object_id=10**9,
        seq=1,
        deleted=True,
        changed_at=timezone.now() - timedelta(days=40),
    )

    out = StringIO()
    call_command("purge_expired", stdout=out)

    assert out.getvalue().strip() == (
        "Erased 1 task(s) from the trash, 1 sync deletion record(s) and 0 idempotency record(s)."
    )
    assert not Change.objects.filter(pk=old_change.pk).exists()
