"""Every read of webhooks goes through webhook_list, which scopes it to the user."""

from collections.abc import Sequence

from django.db.models import QuerySet

from taskapi.core.scoping import HasId, scoped_get
from taskapi.webhooks.errors import WebhookNotFound
from taskapi.webhooks.models import Delivery, Endpoint


def webhook_list(*, user: HasId) -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(owner_id=user.id).order_by("id")


def webhook_get(*, user: HasId, webhook_id: int) -> Endpoint:
    return scoped_get(webhook_list(user=user), object_id=webhook_id, not_found=WebhookNotFound)


def endpoints_active(*, owner_ids: Sequence[int]) -> dict[int, list[Endpoint]]:
    """The owners' active endpoints (a user has at most 10), by owner; owners without any are
    left out. One query, for the members of a shared project as for one user."""
    active: dict[int, list[Endpoint]] = {}
    for endpoint in Endpoint.objects.filter(owner_id__in=owner_ids, active=True).order_by("id"):
        active.setdefault(endpoint.owner_id, []).append(endpoint)
    return active


def delivery_list(*, endpoint: Endpoint) -> QuerySet[Delivery]:
    """The endpoint's delivery log, newest first."""
    return Delivery.objects.filter(endpoint=endpoint).select_related("event").order_by("-id")
