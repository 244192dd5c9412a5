"""Each subject's webhook receives the events of the tasks it may see, and nothing else.

With CONTRACT_WEBHOOK_RECEIVER=1 (a worker runs beside the server), the viewer V and the three
non-members get a webhook each, to its own path on a loopback receiver in this process. A's
generated requests write thousands of tasks, in A's own projects and in the shared ones; the
matrix check adds its fixtures to the shared project. Checked at the end of the run, once the
worker has caught up (stats webhooks.<label>.received/foreign/missing):
- the viewer: every event is about a task in a shared project at the time (its `project_id`),
  and every task the run's fixtures deleted there was announced to it. Its webhook takes
  `task.deleted` only: every type would be a delivery for each of the run's thousands of writes
  in the shared project (`task.created` alone was 2,700 in `make test`), a load on the worker,
  and on SQLite's one writer, that slowed the whole run; the editor's would double it and prove
  nothing the viewer's does not;
- the non-members (B; R, removed before the project held a task; I, who never accepted):
  nothing at all, of any type.
"""

from __future__ import annotations

import atexit
import os
import time
from typing import TYPE_CHECKING, Any

from contract.fuzzing import ledger
from contract.fuzzing.fixtures import create
from contract.fuzzing.run import count
from contract.fuzzing.sharing import ROLES

if TYPE_CHECKING:
    from contract.fuzzing.auth import Account

# The worker may be minutes behind the run on a busy machine: the end of the run waits for it
# while it keeps delivering, and gives up after this long without a delivery.
WEBHOOK_STALL = 30.0
EVENT_TYPES = ["task.created", "task.updated", "task.deleted", "task.restored", "label.created"]
# Who gets a webhook, and of which event types.
SUBSCRIBED = {"V": ["task.deleted"], "B": EVENT_TYPES, "R": EVENT_TYPES, "I": EVENT_TYPES}
_receiver: Any = None


def subscribe(who: Account) -> None:
    """Give `who` a webhook to the run's receiver, at a path of its own."""
    global _receiver
    if os.environ.get("CONTRACT_WEBHOOK_RECEIVER") != "1" or who.label not in SUBSCRIBED:
        return
    if _receiver is None:
        from tests.support.receiver import start_receiver

        _receiver = start_receiver()
        atexit.register(_check_deliveries)
    body = {"url": f"{_receiver.url}/{who.label}", "event_types": SUBSCRIBED[who.label]}
    ledger.webhooks_of.setdefault(who.label, set()).add(create(who, "/webhooks/", body, "webhook"))


def _events() -> dict[str, list[dict[str, Any]]]:
    by_label: dict[str, list[dict[str, Any]]] = {label: [] for label in ledger.webhooks_of}
    with _receiver.lock:
        for received in _receiver.received:
            by_label.setdefault(received.path.rsplit("/", 1)[-1], []).append(received.json)
    return by_label


def _announced(events: list[dict[str, Any]]) -> set[Any]:
    return {event["data"].get("id") for event in events if event.get("type") == "task.deleted"}


def _check_deliveries() -> None:
    """Waits for the worker to announce every fixture's deletion to the members (while it keeps
    delivering: WEBHOOK_STALL seconds without a new delivery end the wait), then counts what
    each receiver got."""
    members = [label for label in ledger.webhooks_of if label in ROLES]
    last, last_change = -1, time.monotonic()
    while True:
        by_label = _events()
        if all(ledger.fixtures_deleted <= _announced(by_label[label]) for label in members):
            break
        received = sum(len(events) for events in by_label.values())
        if received != last:
            last, last_change = received, time.monotonic()
        elif time.monotonic() - last_change > WEBHOOK_STALL:
            break
        time.sleep(0.5)
    stats = {"webhooks.checked": 1}
    for label, events in by_label.items():
        seen = ledger.shared_project_ids if label in ROLES else set()
        foreign = [e for e in events if e.get("data", {}).get("project_id") not in seen]
        stats[f"webhooks.{label}.received"] = len(events)
        stats[f"webhooks.{label}.foreign"] = len(foreign)
        if label in ROLES:
            stats[f"webhooks.{label}.missing"] = len(ledger.fixtures_deleted - _announced(events))
    count(stats)
