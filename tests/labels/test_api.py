"""The label operations over HTTP: status codes, scoping, validation and error shape."""

import json

import pytest

from taskapi.labels.models import MAX_LABELS_PER_USER, Label
from tests.factories import LabelFactory

pytestmark = pytest.mark.django_db


def _fields(response) -> list[tuple[str | None, str]]:
    return [(error["field"], error["code"]) for error in response.json()["errors"]]


def test_create_returns_201_with_location_and_the_label(api_client, user):
    response = api_client.post("/labels/", {"name": " errands ", "color": "#3B82F6"}, format="json")

    assert response.status_code == 201
    label = Label.objects.get()
    assert response["Location"] == f"/labels/{label.pk}/"
    body = response.json()
    assert {key: body[key] for key in ("id", "name", "color")} == {
        "id": label.pk,
        "name": "errands",
        "color": "#3b82f6",
    }
    assert body["created_at"].endswith("Z")
    assert label.owner_id == user.id


def test_a_name_taken_ignoring_case_is_a_400_on_name(api_client, user):
    LabelFactory(owner=user, name="Straße", name_key="straße".casefold())

    response = api_client.post("/labels/", {"name": "STRASSE"}, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert _fields(response) == [("name", "unique")]


def test_another_users_label_name_is_free(api_client, other_user):
    LabelFactory(owner=other_user, name="errands")

    assert api_client.post("/labels/", {"name": "Errands"}, format="json").status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 51}, "name"),
        ({"name": "a\u0000b"}, "name"),
        ({"name": 7}, "name"),
        ({"name": "ok", "color": "blue"}, "color"),
        ({"name": "ok", "color": "#12345"}, "color"),
        ({"name": "ok", "color": ""}, "color"),
        ({"name": "ok", "color": 123456}, "color"),
        # The contract's pattern is the whole value: no whitespace around it, trimmed or not.
        ({"name": "ok", "color": " #123456"}, "color"),
        ({"name": "ok", "color": "#123456 "}, "color"),
        ({"name": "ok", "color": "#123456\n"}, "color"),
    ],
)
def test_invalid_fields_are_a_400_naming_the_field(api_client, body, field):
    response = api_client.post("/labels/", body, format="json")

    assert response.status_code == 400
    assert [name for name, _code in _fields(response)] == [field]
    assert not Label.objects.exists()


def test_the_label_limit_is_a_400_with_no_field(api_client, user):
    Label.objects.bulk_create(
        [Label(owner=user, name=f"l{i}", name_key=f"l{i}") for i in range(MAX_LABELS_PER_USER)]
    )

    response = api_client.post("/labels/", {"name": "one more"}, format="json")

    assert response.status_code == 400
    assert _fields(response) == [(None, "limit")]
    assert Label.objects.filter(owner=user).count() == MAX_LABELS_PER_USER


def test_the_list_holds_only_your_labels_by_name_ignoring_case(api_client, user, other_user):
    LabelFactory(owner=user, name="work", name_key="work")
    LabelFactory(owner=user, name="Errands", name_key="errands")
    LabelFactory(owner=other_user, name="alpha", name_key="alpha")

    response = api_client.get("/labels/")

    assert response.status_code == 200
    assert [label["name"] for label in response.json()["results"]] == ["Errands", "work"]


def test_patch_renames_and_recolours_and_null_removes_the_colour(api_client, user):
    label = LabelFactory(owner=user, color="#000000")

    renamed = api_client.patch(f"/labels/{label.pk}/", {"name": "shopping"}, format="json")
    uncoloured = api_client.patch(f"/labels/{label.pk}/", {"color": None}, format="json")

    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["color"]) == ("shopping", "#000000")
    assert uncoloured.json()["color"] is None
    label.refresh_from_db()
    assert (label.name, label.name_key, label.color) == ("shopping", "shopping", None)


def test_renaming_onto_another_labels_name_is_a_400_and_changes_nothing(api_client, user):
    LabelFactory(owner=user, name="home", name_key="home")
    label = LabelFactory(owner=user, name="work", name_key="work")

    response = api_client.patch(f"/labels/{label.pk}/", {"name": "HOME"}, format="json")

    assert response.status_code == 400
    assert _fields(response) == [("name", "unique")]
    label.refresh_from_db()
    assert label.name == "work"


def test_renaming_a_label_to_its_own_name_in_another_case_is_allowed(api_client, user):
    label = LabelFactory(owner=user, name="work", name_key="work")

    response = api_client.patch(f"/labels/{label.pk}/", {"name": "Work"}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "Work"


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_users_label_is_404_like_a_missing_one_and_untouched(
    api_client, other_user, method
):
    theirs = LabelFactory(owner=other_user, name="theirs", name_key="theirs")
    call = getattr(api_client, method)

    on_theirs = call(f"/labels/{theirs.pk}/", {"name": "mine now"}, format="json")
    on_missing = call(f"/labels/{theirs.pk + 1000}/", {"name": "mine now"}, format="json")

    assert on_theirs.status_code == on_missing.status_code == 404
    assert on_theirs.json() == on_missing.json()
    theirs.refresh_from_db()
    assert theirs.name == "theirs"


def test_an_id_beyond_int64_is_a_404(api_client):
    assert api_client.get(f"/labels/{2**63}/").status_code == 404
    assert api_client.delete(f"/labels/{2**64}/").status_code == 404


def test_delete_is_204_then_404(api_client, user):
    label = LabelFactory(owner=user)

    assert api_client.delete(f"/labels/{label.pk}/").status_code == 204
    assert api_client.get(f"/labels/{label.pk}/").status_code == 404
    assert not Label.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/labels/"),
        ("post", "/labels/"),
        ("get", "/labels/1/"),
        ("patch", "/labels/1/"),
        ("delete", "/labels/1/"),
    ],
)
def test_every_label_route_needs_a_token(client, method, path):
    response = getattr(client, method)(path, {}, format="json")

    assert response.status_code == 401
    assert response.json()["type"] == "/problems/not-authenticated"


@pytest.mark.parametrize("color", [" #123456", "#123456 ", "#123456\n"])
def test_a_colour_with_whitespace_is_refused_by_patch_and_changes_nothing(api_client, user, color):
    label = LabelFactory(owner=user, color="#000000")

    response = api_client.patch(f"/labels/{label.pk}/", {"color": color}, format="json")

    assert response.status_code == 400
    assert _fields(response) == [("color", "invalid")]
    label.refresh_from_db()
    assert label.color == "#000000"


def test_the_task_updated_event_of_a_label_deletion_carries_the_task_as_get_returns_it(
    api_client, user
):
    from taskapi.webhooks.models import Event
    from tests.factories import WebhookFactory

    WebhookFactory(owner=user, event_types=["task.updated"])
    label = api_client.post("/labels/", {"name": "home"}, format="json").json()
    task = api_client.post("/tasks/", {"title": "t", "labels": [label["id"]]}, format="json").json()

    assert api_client.delete(f"/labels/{label['id']}/").status_code == 204

    (event,) = Event.objects.filter(type="task.updated")
    data = json.loads(event.body)["data"]
    shown = api_client.get(f"/tasks/{task['id']}/").json()
    assert data["labels"] == shown["labels"] == []
    assert data == shown
