"""The outbox: events of users' resources become deliveries, in the writing transaction.

For each event a subscribed active endpoint of the owner wants: one `Event` row (the body,
serialized once), one `Delivery` per endpoint, and one queue row (django-tasks) for its first
attempt. All in the transaction of the change, so they commit or roll back with it.
"""

from typing import Any

import orjson
from django.dispatch import receiver

from taskapi.core.events import Event as DomainEvent
from taskapi.core.events import events_recorded
from taskapi.webhooks.delivery import attempt_enqueue
from taskapi.webhooks.models import Delivery, Endpoint, Event
from taskapi.webhooks.selectors import endpoints_subscribed


def event_types_wanted(owner_id: int) -> frozenset[str]:
    """What the owner's active endpoints subscribe to (one query; a user has at most 10)."""
    wanted: set[str] = set()
    for event_types in Endpoint.objects.filter(owner_id=owner_id, active=True).values_list(
        "event_types", flat=True
    ):
        wanted.update(event_types)
    return frozenset(wanted)


def event_body(*, event_id: str, type: str, occurred_at: Any, data: dict[str, Any]) -> str:
    """What a receiver gets, byte for byte (Standard Webhooks' payload shape, with the id)."""
    timestamp = occurred_at.isoformat().replace("+00:00", "Z")
    return orjson.dumps(
        {"id": event_id, "type": type, "timestamp": timestamp, "data": data}
    ).decode()


def deliveries_create(*, endpoints: list[Endpoint], event: Event) -> list[Delivery]:
    """A pending delivery of `event` to each endpoint, and the queue row of its first attempt."""
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(endpoint=endpoint, event=event, next_attempt_at=event.created_at)
            for endpoint in endpoints
        ]
    )
    for delivery in deliveries:
        attempt_enqueue(delivery_id=delivery.pk, attempt=1)
    return deliveries


@receiver(events_recorded, dispatch_uid="webhooks.outbox.events_recorded")
def _events_to_outbox(sender: type, *, events: list[DomainEvent], **_: Any) -> None:
    first = events[0]
    endpoints = endpoints_subscribed(owner_id=first.owner_id, event_type=first.type)
    if not endpoints:
        return
    for domain_event in events:
        event = Event(
            owner_id=domain_event.owner_id,
            type=domain_event.type,
            created_at=domain_event.occurred_at,
        )
        event.body = event_body(
            event_id=event.pk, type=event.type, occurred_at=event.created_at, data=domain_event.data
        )
        event.save(force_insert=True)
        deliveries_create(endpoints=endpoints, event=event)
