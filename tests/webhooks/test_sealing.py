"""Webhook signing secrets at rest: sealed under a key that only the environment holds, so the
database alone signs nothing; rotated through a list of keys, and resealed by a command.

"A dump" here is every column of the webhook's row read with plain SQL, as a copy of the
database gives it: nothing in it is the secret, and nothing in it signs a delivery that the
receiver (the Standard Webhooks library, as a consumer verifies) accepts.
"""

from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from taskapi.webhooks.models import Endpoint
from taskapi.webhooks.sealing import UnreadableSecret, seal, unseal
from tests.factories import UserFactory
from tests.support.dump import dumped_row

pytestmark = pytest.mark.django_db

OLD_KEY, NEW_KEY, OTHER_KEY = (Fernet.generate_key().decode() for _ in range(3))
BODY = '{"type":"task.created","data":{"id":1}}'


def _create(api_client) -> tuple[int, str]:
    # Loopback over http: allowed in the tests (conftest.py); no request is sent to it here.
    response = api_client.post(
        "/webhooks/",
        {"url": "http://127.0.0.1:9/in", "event_types": ["task.created"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"], response.json()["secret"]


def _dumped_row(webhook_id: int) -> dict[str, object]:
    return dumped_row(Endpoint, webhook_id)


def _signs(candidate: object, headers: dict[str, str]) -> bool:
    """Whether `candidate`, taken as a secret, verifies the delivery `headers` sign."""
    try:
        Webhook(str(candidate)).verify(BODY, headers)
    except (WebhookVerificationError, ValueError, TypeError):
        return False
    return True


def test_a_dump_of_the_table_holds_no_secret_and_nothing_in_it_signs_a_delivery(api_client):
    webhook_id, secret = _create(api_client)
    moment = datetime.now(UTC)  # the receiver refuses a timestamp more than 5 minutes off
    signed = Webhook(secret).sign(msg_id="msg_1", timestamp=moment, data=BODY)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signed,
    }

    row = _dumped_row(webhook_id)

    assert _signs(secret, headers)  # the real secret does: the check can tell
    assert not any(_signs(value, headers) for value in row.values())
    secret_bytes = secret.removeprefix("whsec_")
    assert not any(secret_bytes in str(value) for value in row.values())
    assert str(row["sealed_secret"]).startswith("gAAAAA")  # a Fernet token


def test_the_secret_shown_at_create_is_the_one_deliveries_are_signed_with(api_client):
    webhook_id, secret = _create(api_client)

    assert Endpoint.objects.get(pk=webhook_id).secret == secret


def test_rotation_through_the_secret_seals_the_new_one_too(api_client):
    webhook_id, _ = _create(api_client)

    rotated = api_client.post(f"/webhooks/{webhook_id}/rotate-secret/").json()["secret"]

    row = _dumped_row(webhook_id)
    assert rotated.removeprefix("whsec_") not in str(row["sealed_secret"])
    assert Endpoint.objects.get(pk=webhook_id).secret == rotated


def test_a_dump_with_another_key_opens_nothing():
    with override_settings(WEBHOOKS_SECRET_KEYS=[OLD_KEY]):
        sealed = seal("whsec_c2VjcmV0")
    with override_settings(WEBHOOKS_SECRET_KEYS=[OTHER_KEY]), pytest.raises(UnreadableSecret):
        unseal(sealed)


def test_a_new_key_first_opens_what_the_old_sealed_and_the_command_reseals_it():
    owner = UserFactory()
    with override_settings(WEBHOOKS_SECRET_KEYS=[OLD_KEY]):
        endpoint = Endpoint.objects.create(
            owner=owner, url="https://hooks.example.com/in", event_types=["task.created"]
        )
        secret = endpoint.secret
    with override_settings(WEBHOOKS_SECRET_KEYS=[NEW_KEY, OLD_KEY]):
        assert Endpoint.objects.get(pk=endpoint.pk).secret == secret  # the fallback opens it
        call_command("webhooks_reseal_secrets", stdout=None)
    with override_settings(WEBHOOKS_SECRET_KEYS=[NEW_KEY]):
        assert Endpoint.objects.get(pk=endpoint.pk).secret == secret  # the old key can go
    with override_settings(WEBHOOKS_SECRET_KEYS=[OLD_KEY]), pytest.raises(UnreadableSecret):
        Endpoint.objects.get(pk=endpoint.pk).secret  # noqa: B018


def test_the_command_stops_on_a_secret_no_key_opens():
    owner = UserFactory()
    with override_settings(WEBHOOKS_SECRET_KEYS=[OTHER_KEY]):
        Endpoint.objects.create(owner=owner, url="https://h.example.com/", event_types=["x"])
    with override_settings(WEBHOOKS_SECRET_KEYS=[NEW_KEY]), pytest.raises(CommandError):
        call_command("webhooks_reseal_secrets")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_the_stored_secrets_and_back():
    apps = _migrate([("webhooks", "0001_initial")])
    User = apps.get_model("accounts", "User")
    OldEndpoint = apps.get_model("webhooks", "Endpoint")
    owner = User.objects.create(email="ada@example.com")
    clear = "whsec_" + "A" * 43 + "="
    old = OldEndpoint.objects.create(
        owner=owner, url="https://h.example.com/", event_types=["task.created"], secret=clear
    )

    _migrate([("webhooks", "0002_sealed_secrets")])
    row = _dumped_row(old.pk)
    assert "secret" not in row
    assert clear not in str(row["sealed_secret"])
    assert unseal(str(row["sealed_secret"])) == clear

    apps = _migrate([("webhooks", "0001_initial")])
    assert apps.get_model("webhooks", "Endpoint").objects.get(pk=old.pk).secret == clear
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
