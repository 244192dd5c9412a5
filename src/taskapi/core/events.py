"""Events of users' resources, for listeners in other apps (webhooks), without the writing apps
importing them.

An event is recorded inside the transaction that makes its change, after the change: a listener
that stores it (an outbox) stores it in that transaction, so an event exists exactly when its
change commits, and a change rolled back leaves none.

A writing app first asks once what the listeners want for the owners concerned
(`events_wanted`: one question to each listener, for all of them; the members of a shared
project are several), renders the representation of only the objects of those types, then
calls `events_record` once per type with all the objects of that type. What a listener learnt
while answering (the webhooks app: the owner's active endpoints) travels with the events, so it
never asks its tables twice in one write.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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


# Sent with `events` (a list of Event of one owner and one type) and `context` (each listener's
# answer to the interest question, by name), inside the writing transaction.
events_recorded = Signal()


@dataclass(frozen=True)
class Interest:
    """A listener's answer for one owner: the event types it wants, and what it learnt finding
    them out, handed back to it with the events."""

    types: frozenset[str]
    context: Any = None


@dataclass(frozen=True)
class Wanted:
    """Every listener's answer for one owner, asked once per write."""

    owner_id: int
    types: frozenset[str]
    contexts: dict[str, Any] = field(default_factory=dict)


# Asked for several owners at once (the members of a shared project): owner id -> Interest,
# leaving out owners it wants nothing for.
InterestQuestion = Callable[[Sequence[int]], dict[int, Interest]]
_listeners: dict[str, InterestQuestion] = {}


def event_listener_register(*, name: str, interest: InterestQuestion) -> None:
    """A listener says how to ask which event types it wants for an owner (once, at start-up)."""
    _listeners[name] = interest


def events_wanted(*, owner_ids: Sequence[int]) -> list[Wanted]:
    """What the listeners want for each of these owners (one question to each listener for
    all of them), leaving out owners no listener wants anything for."""
    if not owner_ids or not _listeners:
        return []
    types: dict[int, frozenset[str]] = {}
    contexts: dict[int, dict[str, Any]] = {}
    for name, interest in _listeners.items():
        for owner_id, answer in interest(owner_ids).items():
            types[owner_id] = types.get(owner_id, frozenset()) | answer.types
            contexts.setdefault(owner_id, {})[name] = answer.context
    return [
        Wanted(owner_id=owner_id, types=types[owner_id], contexts=contexts[owner_id])
        for owner_id in sorted(types)
        if types[owner_id]
    ]


def events_record(
    *, wanted: Wanted, type: str, objects: Sequence[tuple[int, dict[str, Any]]]
) -> None:
    """Record that these objects (id, representation) of `wanted`'s owner had an event of
    `type`."""
    if not connection.in_atomic_block:
        raise RuntimeError("events_record() must run inside the transaction that writes")
    if not objects:
        return
    now = timezone.now()
    events = [Event(wanted.owner_id, type, object_id, data, now) for object_id, data in objects]
    events_recorded.send(sender=Event, events=events, context=wanted.contexts)
