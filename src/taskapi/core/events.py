"""Events of users' resources, for listeners in other apps (webhooks), without the writing apps
importing them.

An event is recorded inside the transaction that makes its change, after the change: a listener
that stores it (an outbox) stores it in that transaction, so an event exists exactly when its
change commits, and a change rolled back leaves none.

A writing app first asks which event types anyone wants for the owner (`event_types_wanted`,
one question to each listener), renders the representation of only those objects, then calls
`events_record` once per type with all the objects of that type.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.dispatch import Signal
from django.utils import timezone


@dataclass(frozen=True)
class Event:
    owner_id: int
    type: str  # "task.completed"
    object_id: int
    data: dict[str, Any]  # the resource as the API shows it, JSON-ready
    occurred_at: datetime


# Sent with `events`: a list of Event of one owner and one type, inside the writing transaction.
events_recorded = Signal()

Interest = Callable[[int], frozenset[str]]
_interests: list[Interest] = []


def event_interest_register(interest: Interest) -> None:
    """A listener says which event types it wants for an owner (called once, at start-up)."""
    if interest not in _interests:
        _interests.append(interest)


def event_types_wanted(*, owner_id: int) -> frozenset[str]:
    wanted: frozenset[str] = frozenset()
    for interest in _interests:
        wanted |= interest(owner_id)
    return wanted


def events_record(
    *, owner_id: int, type: str, objects: Sequence[tuple[int, dict[str, Any]]]
) -> None:
    """Record that these objects (id, representation) of one owner had an event of `type`."""
    if not connection.in_atomic_block:
        raise RuntimeError("events_record() must run inside the transaction that writes")
    if not objects:
        return
    now = timezone.now()
    events = [Event(owner_id, type, object_id, data, now) for object_id, data in objects]
    events_recorded.send(sender=Event, events=events)
