"""The outbox: events of users' resources become deliveries, in the writing transaction.

For each event a subscribed active endpoint of the owner wants: one `Event` row (the body,
serialized once), one `Delivery` per endpoint, and one queue row (django-tasks) for its first
attempt. All in the transaction of the change, so they commit or roll back with it.
"""

from collections.abc import Sequence
from typing import Any

import orjson
from django.dispatch import receiver

from taskapi.core.events import Event as DomainEvent
from taskapi.core.events import Interest, events_recorded
from taskapi.webhooks.delivery import attempt_enqueue
from taskapi.webhooks.models import Delivery, Endpoint, Event
from taskapi.webhooks.selectors import endpoints_active

# The outbox's name among the event listeners (core.events).
LISTENER = "webhooks"


def endpoints_interest(owner_ids: Sequence[int]) -> dict[int, Interest]:
    """What each owner's active endpoints subscribe to, and the endpoints themselves, which
    the outbox gets back with the events: one query per write for all the owners (the members
    of a shared project), each of whom has at most 10."""
    return {
        owner_id: Interest(
            types=frozenset(
                event_type for endpoint in endpoints for event_type in endpoint.event_types
            ),
            context=endpoints,
        )
        for owner_id, endpoints in endpoints_active(owner_ids=owner_ids).items()
    }


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
def _events_to_outbox(
    sender: type, *, events: list[DomainEvent], context: dict[str, Any], **_: Any
) -> None:
    event_type = events[0].type
    active: list[Endpoint] = context.get(LISTENER) or []
    endpoints = [endpoint for endpoint in active if event_type in endpoint.event_types]
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
