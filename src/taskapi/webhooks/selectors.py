"""Every read of webhooks goes through webhook_list, which scopes it to the user."""

from django.db.models import QuerySet

from taskapi.core.scoping import HasId, scoped_get
from taskapi.webhooks.errors import WebhookNotFound
from taskapi.webhooks.models import Delivery, Endpoint


def webhook_list(*, user: HasId) -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(owner_id=user.id).order_by("id")


def webhook_get(*, user: HasId, webhook_id: int) -> Endpoint:
    return scoped_get(webhook_list(user=user), object_id=webhook_id, not_found=WebhookNotFound)


def endpoints_active(*, owner_id: int) -> list[Endpoint]:
    """The owner's active endpoints (a user has at most 10)."""
    return list(Endpoint.objects.filter(owner_id=owner_id, active=True).order_by("id"))


def delivery_list(*, endpoint: Endpoint) -> QuerySet[Delivery]:
    """The endpoint's delivery log, newest first."""
    return Delivery.objects.filter(endpoint=endpoint).select_related("event").order_by("-id")
