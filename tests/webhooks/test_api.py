"""The webhook operations over HTTP: shapes, the secret shown once, limits, errors, isolation."""

import pytest
from standardwebhooks.webhooks import Webhook

from taskapi.webhooks.models import EVENT_TYPES, MAX_WEBHOOKS_PER_USER, Delivery, Endpoint
from tests.factories import WebhookFactory

pytestmark = pytest.mark.django_db


def _create(api_client, receiver, **body):
    return api_client.post(
        "/webhooks/",
        {"url": receiver.url, "event_types": ["task.created", "task.completed"], **body},
        format="json",
    )


def test_create_answers_201_with_the_secret_and_a_location(api_client, receiver):
    response = _create(api_client, receiver)

    assert response.status_code == 201
    body = response.json()
    assert response["Location"] == f"/webhooks/{body['id']}/"
    assert body["secret"].startswith("whsec_")
    Webhook(body["secret"])  # a secret the reference library accepts
    assert body["event_types"] == ["task.completed", "task.created"]
    assert (body["active"], body["disabled_reason"]) == (True, None)


def test_the_secret_is_never_shown_again_on_read_or_list(api_client, receiver):
    webhook_id = _create(api_client, receiver).json()["id"]

    assert "secret" not in api_client.get(f"/webhooks/{webhook_id}/").json()
    assert "secret" not in api_client.get("/webhooks/").json()["results"][0]


def test_rotating_gives_a_new_secret_that_signs_from_then_on(api_client, user, receiver):
    created = _create(api_client, receiver).json()

    rotated = api_client.post(f"/webhooks/{created['id']}/rotate-secret/")

    assert rotated.status_code == 200
    assert rotated.json()["secret"] != created["secret"]
    assert Endpoint.objects.get(pk=created["id"]).secret == rotated.json()["secret"]


def test_patch_changes_only_what_it_names_and_turning_on_clears_the_reason(
    api_client, user, receiver
):
    webhook = WebhookFactory(owner=user, active=False, disabled_reason="gone")

    response = api_client.patch(f"/webhooks/{webhook.pk}/", {"active": True}, format="json")

    assert response.status_code == 200
    assert (response.json()["active"], response.json()["disabled_reason"]) == (True, None)
    assert response.json()["url"] == webhook.url


def test_patch_without_a_body_is_a_400(api_client, user):
    webhook = WebhookFactory(owner=user)

    response = api_client.patch(f"/webhooks/{webhook.pk}/", format="json")

    assert response.status_code == 400


def test_delete_removes_the_webhook_and_its_log(api_client, user):
    webhook = WebhookFactory(owner=user)
    api_client.post(f"/webhooks/{webhook.pk}/test/")

    assert api_client.delete(f"/webhooks/{webhook.pk}/").status_code == 204
    assert api_client.get(f"/webhooks/{webhook.pk}/").status_code == 404
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"url": "http://10.0.0.1/hook"}, "url", "forbidden_address"),
        ({"url": "ftp://127.0.0.1/hook"}, "url", "scheme"),
        ({"url": "https://no-such-host.invalid/"}, "url", "unresolvable"),
        ({"url": 42}, "url", "invalid"),
        ({"url": "x" * 2001}, "url", "max_length"),
        ({"event_types": []}, "event_types", "min_length"),
        ({"event_types": ["task.exploded"]}, "event_types", "invalid_choice"),
        ({"event_types": ["task.created", "task.created"]}, "event_types", "unique"),
        ({"event_types": "task.created"}, "event_types", "not_a_list"),
        ({"active": "yes"}, "active", "invalid"),
    ],
)
def test_invalid_webhooks_are_a_400_naming_the_field(api_client, receiver, body, field, code):
    response = _create(api_client, receiver, **body)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert (errors[0]["field"].split(".")[0], errors[0]["code"]) == (field, code), errors
    assert not Endpoint.objects.exists()


def test_a_user_has_at_most_ten_webhooks(api_client, user, receiver):
    WebhookFactory.create_batch(MAX_WEBHOOKS_PER_USER, owner=user)

    response = _create(api_client, receiver)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "limit"


def test_another_users_webhook_answers_exactly_like_a_missing_one(api_client):
    theirs = WebhookFactory()
    missing = theirs.pk + 1000

    for suffix, method in [
        ("", "get"),
        ("", "patch"),
        ("", "delete"),
        ("rotate-secret/", "post"),
        ("deliveries/", "get"),
        ("test/", "post"),
    ]:
        body = {"active": False} if method == "patch" else None
        answers = [
            getattr(api_client, method)(f"/webhooks/{webhook_id}/{suffix}", body, format="json")
            for webhook_id in (theirs.pk, missing)
        ]
        assert [a.status_code for a in answers] == [404, 404], suffix
        assert answers[0].content == answers[1].content
    theirs_now = Endpoint.objects.get(pk=theirs.pk)
    assert (theirs_now.active, theirs_now.secret) == (True, theirs.secret)
    assert not Delivery.objects.exists()


def test_the_list_holds_only_the_users_webhooks(api_client, user):
    mine = WebhookFactory(owner=user)
    WebhookFactory()

    assert [w["id"] for w in api_client.get("/webhooks/").json()["results"]] == [mine.pk]


def test_a_test_event_is_queued_as_a_pending_delivery(api_client, user):
    webhook = WebhookFactory(owner=user, event_types=["label.deleted"], active=False)

    response = api_client.post(f"/webhooks/{webhook.pk}/test/")

    assert response.status_code == 202
    body = response.json()
    assert (body["event_type"], body["state"], body["attempts"]) == ("webhook.test", "pending", 0)
    assert body["event_id"].startswith("evt_") and len(body["event_id"]) == 30


def test_the_delivery_log_pages_newest_first(api_client, user):
    webhook = WebhookFactory(owner=user)
    ids = [api_client.post(f"/webhooks/{webhook.pk}/test/").json()["id"] for _ in range(5)]

    first = api_client.get(f"/webhooks/{webhook.pk}/deliveries/?page_size=3").json()
    second = api_client.get(first["next"]).json()

    assert [d["id"] for d in first["results"] + second["results"]] == ids[::-1]
    assert second["next"] is None


@pytest.mark.parametrize(
    "query",
    [
        "cursor=garbage",
        "cursor=cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk5",
        "page_size=0",
        "page_size=101",
        "page_size=x",
    ],
)
def test_a_bad_cursor_or_page_size_is_a_400(api_client, user, query):
    webhook = WebhookFactory(owner=user)

    response = api_client.get(f"/webhooks/{webhook.pk}/deliveries/?{query}")

    assert response.status_code == 400


def test_every_event_type_can_be_subscribed(api_client, receiver):
    response = _create(api_client, receiver, event_types=list(EVENT_TYPES))

    assert response.status_code == 201
    assert sorted(response.json()["event_types"]) == sorted(EVENT_TYPES)
