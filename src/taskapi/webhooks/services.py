"""Writes of webhooks. A URL is checked against the SSRF rules (ssrf.py) whenever it is saved."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from taskapi.core.scoping import HasId
from taskapi.webhooks.errors import WebhookLimitReached
from taskapi.webhooks.models import (
    MAX_WEBHOOKS_PER_USER,
    TEST_EVENT_TYPE,
    Delivery,
    Endpoint,
    Event,
    new_secret,
)
from taskapi.webhooks.outbox import deliveries_create, event_body
from taskapi.webhooks.sealing import seal
from taskapi.webhooks.selectors import webhook_get, webhook_list
from taskapi.webhooks.ssrf import target_checked


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    values = dict(data)
    if "url" in values:
        target_checked(values["url"])
    if "event_types" in values:
        values["event_types"] = sorted(set(values["event_types"]))
    return values


def webhook_create(*, user: HasId, data: dict[str, Any]) -> Endpoint:
    # A soft bound, like labels': two racing creates may both pass it at 9.
    if webhook_list(user=user).count() >= MAX_WEBHOOKS_PER_USER:
        raise WebhookLimitReached()
    values = _checked(data)
    now = timezone.now()
    return Endpoint.objects.create(**values, owner_id=user.id, created_at=now, updated_at=now)


def webhook_update(*, user: HasId, webhook: Endpoint, changes: dict[str, Any]) -> Endpoint:
    """Change the URL, the event types or the active flag. Turning a webhook back on clears
    `disabled_reason`."""
    if not changes:
        return webhook
    values = {**_checked(changes), "updated_at": timezone.now()}
    if values.get("active"):
        values["disabled_reason"] = None
    return _webhook_set(user=user, webhook=webhook, values=values)


def webhook_delete(*, user: HasId, webhook_id: int) -> None:
    """Delete the webhook and its delivery log; attempts already queued find nothing to do."""
    webhook = webhook_get(user=user, webhook_id=webhook_id)  # 404 unless the user's
    webhook_list(user=user).filter(pk=webhook.pk).delete()


def webhook_rotate_secret(*, user: HasId, webhook: Endpoint) -> Endpoint:
    """A new signing secret, used from the next attempt on (the old one stops at once)."""
    values = {"sealed_secret": seal(new_secret()), "updated_at": timezone.now()}
    return _webhook_set(user=user, webhook=webhook, values=values)


def _webhook_set(*, user: HasId, webhook: Endpoint, values: dict[str, Any]) -> Endpoint:
    """One UPDATE scoped to the owner; the instance takes the new values. A webhook deleted
    since it was read is a 404."""
    if not webhook_list(user=user).filter(pk=webhook.pk).update(**values):
        webhook_get(user=user, webhook_id=webhook.pk)
    for field, value in values.items():
        setattr(webhook, field, value)
    return webhook


@transaction.atomic
def webhook_test(*, user: HasId, webhook: Endpoint) -> Delivery:
    """Queue a `webhook.test` event to this webhook alone, active or not, whatever its types."""
    now = timezone.now()
    event = Event(owner_id=user.id, type=TEST_EVENT_TYPE, created_at=now)
    event.body = event_body(
        event_id=event.pk,
        type=TEST_EVENT_TYPE,
        occurred_at=now,
        data={"webhook_id": webhook.pk, "message": "A test event from cloud-task-api."},
    )
    event.save(force_insert=True)
    (delivery,) = deliveries_create(endpoints=[webhook], event=event)
    delivery.event = event
    return delivery
