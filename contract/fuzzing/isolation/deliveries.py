"""B's webhook receives the events of B's own tasks, each of them, and nothing of A's.

With CONTRACT_WEBHOOK_RECEIVER=1 (a worker runs beside the server), user B gets a webhook for
every event type, to a loopback receiver in this process. A's generated requests write thousands
of tasks and labels (and webhooks of A's own); none of their events may reach B's receiver. B's
own tasks (made by the body checks) must each be announced there. Checked at the end of the run,
once the worker has caught up: stats webhooks.B.received/foreign/missing.
"""

from __future__ import annotations

import atexit
import os
import time
from typing import TYPE_CHECKING, Any

from contract.fuzzing.fixtures import create
from contract.fuzzing.ledger import own_ids_of_b, webhooks_of_b
from contract.fuzzing.run import count

if TYPE_CHECKING:
    from contract.fuzzing.auth import Account

WEBHOOK_DRAIN_TIMEOUT = 60.0
_receiver: Any = None


def subscribe(owner: Account) -> None:
    """Give `owner` (B) a webhook to a receiver of the run's own, checked when the run ends."""
    global _receiver
    if os.environ.get("CONTRACT_WEBHOOK_RECEIVER") != "1":
        return
    from tests.support.receiver import start_receiver

    _receiver = start_receiver()
    event_types = ["task.created", "task.updated", "task.deleted", "label.created"]
    webhook_id = create(
        owner, "/webhooks/", {"url": _receiver.url, "event_types": event_types}, "webhook"
    )
    webhooks_of_b.add(webhook_id)
    atexit.register(_check_deliveries)


def _check_deliveries() -> None:
    """Every event B's receiver got is about one of B's own tasks; each task B created was
    announced (waits for the worker, up to WEBHOOK_DRAIN_TIMEOUT)."""
    deadline = time.monotonic() + WEBHOOK_DRAIN_TIMEOUT
    while True:
        with _receiver.lock:
            events = [received.json for received in _receiver.received]
        created = {e["data"]["id"] for e in events if e.get("type") == "task.created"}
        if own_ids_of_b <= created or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    foreign = [e for e in events if e.get("data", {}).get("id") not in own_ids_of_b]
    count(
        {
            "webhooks.B.received": len(events),
            "webhooks.B.foreign": len(foreign),
            "webhooks.B.missing": len(own_ids_of_b - created),
            "webhooks.B.checked": 1,
        }
    )
