"""Every read of webhooks goes through webhook_list, which scopes it to the user."""

from typing import Protocol

from django.db.models import QuerySet

from taskapi.webhooks.errors import WebhookNotFound
from taskapi.webhooks.models import Delivery, Endpoint

# Largest id a BigAutoField holds; a larger id cannot exist, and SQLite would overflow.
MAX_WEBHOOK_ID = 2**63 - 1


class HasId(Protocol):
    id: int


def webhook_list(*, user: HasId) -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(owner_id=user.id).order_by("id")


def webhook_get(*, user: HasId, webhook_id: int) -> Endpoint:
    if not 1 <= webhook_id <= MAX_WEBHOOK_ID:
        raise WebhookNotFound()
    try:
        return webhook_list(user=user).get(pk=webhook_id)
    except Endpoint.DoesNotExist:
        # 404 rather than 403: a 403 would confirm the id exists.
        raise WebhookNotFound() from None


def endpoints_subscribed(*, owner_id: int, event_type: str) -> list[Endpoint]:
    """The owner's active endpoints that want `event_type` (a user has at most 10)."""
    endpoints = Endpoint.objects.filter(owner_id=owner_id, active=True).order_by("id")
    return [endpoint for endpoint in endpoints if event_type in endpoint.event_types]


def delivery_list(*, endpoint: Endpoint) -> QuerySet[Delivery]:
    """The endpoint's delivery log, newest first."""
    return Delivery.objects.filter(endpoint=endpoint).select_related("event").order_by("-id")
