"""Webhooks on the real stack: `manage.py webhooks_worker` processes beside the two app
instances, on PostgreSQL, delivering to a real loopback receiver.

What the in-process tests (tests/webhooks) cannot show: several worker processes competing for
one queue never make an attempt twice; a worker SIGKILLed inside an attempt loses nothing; a
PostgreSQL outage delays deliveries and loses nothing, and the worker rides it out.

The workers run with a short lease (WEBHOOKS_LEASE_SECONDS) and sweep interval
(WEBHOOKS_SWEEP_INTERVAL) so that a dead worker's attempt is recovered in seconds, not minutes.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from standardwebhooks.webhooks import Webhook

from tests.stack.conftest import Account, create_account, new_stack, record_figure
from tests.support.receiver import Received, Receiver, start_receiver
from tests.support.services import Stack, WebhooksWorker

LEASE = 10.0  # seconds: WEBHOOKS_LEASE_SECONDS of the workers here
TIMEOUT = 8.0  # WEBHOOKS_TIMEOUT: an attempt held longer than this is cut by the worker
QUIET = 3.0  # after the last expected request: time for a duplicate to show itself
TASK_EVENTS = [
    "task.created",
    "task.updated",
    "task.completed",
    "task.uncompleted",
    "task.deleted",
    "task.restored",
]


@pytest.fixture(scope="module")
def webhooks_stack(tmp_path_factory, pg_server):
    """A stack of its own: these tests kill workers and cut PostgreSQL."""
    server = new_stack(
        tmp_path_factory,
        pg_server,
        AUTH_RATE_LIMIT="100000/minute",
        # The receiver listens on loopback over http: the apps must accept it at create, the
        # workers at every attempt.
        WEBHOOKS_ALLOW_LOOPBACK="true",
        WEBHOOKS_CONNECT_TIMEOUT="2",
        WEBHOOKS_TIMEOUT=str(TIMEOUT),
        WEBHOOKS_LEASE_SECONDS=str(LEASE),
        WEBHOOKS_SWEEP_INTERVAL="1",
    )
    yield server
    server.stop()


@pytest.fixture
def stack(webhooks_stack: Stack):
    """The webhooks stack, left with no worker and PostgreSQL reachable after each test."""
    yield webhooks_stack
    webhooks_stack.pg_proxy.restore()
    webhooks_stack.stop_webhooks_workers()


@pytest.fixture
def receiver():
    server = start_receiver()
    yield server
    server.stop()


def _webhook_create(stack: Stack, account: Account, receiver: Receiver) -> tuple[int, str]:
    created = stack.http.post(
        "/webhooks/",
        json={"url": receiver.url, "event_types": TASK_EVENTS},
        headers=account.auth,
    )
    assert created.status_code == 201, created.text
    return created.json()["id"], created.json()["secret"]


def _deliveries(stack: Stack, account: Account, webhook_id: int) -> list[dict]:
    http, found = stack.http, []
    url: str | None = f"/webhooks/{webhook_id}/deliveries/?page_size=100"
    while url:
        page = http.get(url, headers=account.auth)
        assert page.status_code == 200, page.text
        found.extend(page.json()["results"])
        url = page.json()["next"]
    return found


def _task_create(stack: Stack, account: Account, title: str) -> int:
    created = stack.http.post("/tasks/", json={"title": title}, headers=account.auth)
    assert created.status_code == 201, created.text
    return created.json()["id"]


def _wait_for_event_of(
    receiver: Receiver, task_id: int, *, copies: int, timeout: float
) -> list[Received]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [r for r in list(receiver.received) if r.json["data"]["id"] == task_id]
        if len(found) >= copies:
            return found
        time.sleep(0.05)
    pytest.fail(f"task {task_id}: {copies} deliveries not received within {timeout} s")


def _wait_until_both_instances_serve(stack: Stack, account: Account, *, timeout: float) -> None:
    """After an outage: each instance's pool reconnects on its own backoff."""
    deadline = time.monotonic() + timeout
    while not all(
        app.http.get("/webhooks/", headers=account.auth).status_code == 200 for app in stack.apps
    ):
        if time.monotonic() > deadline:
            pytest.fail(f"the app instances do not serve {timeout} s after the outage")
        time.sleep(0.2)


def _wait_for_log(worker: WebhooksWorker, text: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in worker.log():
        if worker.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the worker did not log {text!r}:\n{worker.log()[-3000:]}")
        time.sleep(0.1)


def _attempts_logged(worker_log: str) -> list[dict]:
    lines = [json.loads(line) for line in worker_log.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("message") == "webhook attempt"]


def test_two_workers_deliver_each_change_exactly_once_signed(stack, receiver):
    workers = [stack.start_webhooks_worker() for _ in range(2)]
    account = create_account(stack.http)
    webhook_id, secret = _webhook_create(stack, account, receiver)

    def walk(n: int) -> list[tuple[int, str]]:
        """Six writes of one task through nginx, each one event."""
        http = stack.http
        task_id = _task_create(stack, account, f"task {n}")
        url = f"/tasks/{task_id}/"
        for method, path, body in [
            ("PATCH", url, {"title": f"task {n}, renamed"}),
            ("PATCH", url, {"completed": True}),
            ("PATCH", url, {"completed": False}),
            ("DELETE", url, None),
            ("POST", f"{url}restore/", None),
        ]:
            response = http.request(method, path, json=body, headers=account.auth)
            assert response.status_code in (200, 204), response.text
        return [(task_id, event_type) for event_type in TASK_EVENTS]

    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        expected = [event for walked in pool.map(walk, range(10)) for event in walked]
    written = time.monotonic()
    received = receiver.wait_for(len(expected), timeout=60)
    delivered = max(r.at for r in received)
    time.sleep(QUIET)

    received = list(receiver.received)
    assert len(received) == len(expected) == 60
    ids = Counter(r.headers["webhook-id"] for r in received)
    assert set(ids.values()) == {1}, "an event was delivered more than once"
    payloads = [Webhook(secret).verify(r.body, r.headers) for r in received]
    assert all(p["id"] == r.headers["webhook-id"] for p, r in zip(payloads, received, strict=True))
    assert sorted((p["data"]["id"], p["type"]) for p in payloads) == sorted(expected)
    deliveries = _deliveries(stack, account, webhook_id)
    assert {d["event_id"] for d in deliveries} == set(ids)
    assert {(d["state"], d["attempts"], d["last_status_code"]) for d in deliveries} == {
        ("delivered", 1, 204)
    }
    # Each attempt made by exactly one of the two processes, none made twice.
    made = [_attempts_logged(w.log()) for w in workers]
    attempts = Counter((a["event_id"], a["attempt"]) for log in made for a in log)
    assert set(attempts) == {(event_id, 1) for event_id in ids}
    assert set(attempts.values()) == {1}
    assert all(w.process.poll() is None for w in workers)
    record_figure(
        f"webhooks: {len(expected)} events from {len(expected)} writes through nginx, "
        f"2 workers ({' + '.join(str(len(log)) for log in made)} attempts), all delivered "
        f"{delivered - started:.2f} s after the first write, "
        f"{delivered - written:.2f} s after the last; 0 duplicates"
    )


def test_a_worker_killed_mid_delivery_loses_nothing(stack, receiver):
    worker = stack.start_webhooks_worker()
    account = create_account(stack.http)
    webhook_id, secret = _webhook_create(stack, account, receiver)
    receiver.hold_next(TIMEOUT - 2)  # the worker waits for the answer: inside the attempt
    task_id = _task_create(stack, account, "delivered despite a kill -9")

    (first,) = receiver.wait_for(1, timeout=20)
    time.sleep(0.5)
    assert worker.process.poll() is None
    killed_at = time.monotonic()
    assert worker.kill() == -9
    stack.workers.remove(worker)
    replacement = stack.start_webhooks_worker()

    copies = _wait_for_event_of(receiver, task_id, copies=2, timeout=LEASE + 20)
    time.sleep(QUIET)

    assert len(receiver.received) == 2
    assert {r.headers["webhook-id"] for r in copies} == {first.headers["webhook-id"]}
    assert {r.body for r in copies} == {first.body}
    for copy in copies:
        assert Webhook(secret).verify(copy.body, copy.headers)["data"]["id"] == task_id
    (delivery,) = _deliveries(stack, account, webhook_id)
    assert (delivery["state"], delivery["attempts"]) == ("delivered", 2)
    assert [(a["attempt"], a["outcome"]) for a in _attempts_logged(replacement.log())] == [
        (2, "delivered")
    ]
    record_figure(
        f"webhooks kill -9 mid-delivery: the event arrived {copies[1].at - killed_at:.2f} s "
        f"after the kill (lease {LEASE:g} s), {len(copies)} copies with the same webhook-id"
    )


def test_a_database_outage_delays_deliveries_and_loses_nothing(stack, receiver):
    worker = stack.start_webhooks_worker()
    account = create_account(stack.http)
    webhook_id, secret = _webhook_create(stack, account, receiver)
    # The one worker is inside the first attempt, so the second change stays queued.
    receiver.hold_next(4.0)
    held_id = _task_create(stack, account, "answered while the database is down")
    receiver.wait_for(1, timeout=20)
    queued_id = _task_create(stack, account, "queued before the outage")
    queued_at = time.monotonic()

    stack.pg_proxy.cut()
    cut_at = time.monotonic()
    # The held attempt ends, its outcome cannot be recorded, the worker's loop fails...
    _wait_for_log(worker, "database unavailable, retrying", timeout=30)
    time.sleep(3.0)
    # ...and the worker rides the outage out: same process, loops running, nothing sent.
    assert worker.process.poll() is None, worker.log()
    assert worker.alive_probe() == 0
    assert [r.json["data"]["id"] for r in receiver.received] == [held_id]
    stack.pg_proxy.restore()
    restored_at = time.monotonic()

    (queued,) = _wait_for_event_of(receiver, queued_id, copies=1, timeout=40)
    held = _wait_for_event_of(receiver, held_id, copies=2, timeout=LEASE + 20)
    time.sleep(QUIET)

    assert len(receiver.received) == 3
    _wait_until_both_instances_serve(stack, account, timeout=30)
    assert Webhook(secret).verify(queued.body, queued.headers)["data"]["id"] == queued_id
    assert held[0].headers["webhook-id"] == held[1].headers["webhook-id"]
    deliveries = {d["event_id"]: d for d in _deliveries(stack, account, webhook_id)}
    assert deliveries[queued.headers["webhook-id"]]["state"] == "delivered"
    assert deliveries[queued.headers["webhook-id"]]["attempts"] == 1
    # Its answer came while the database was down: unrecorded, so made again after the lease.
    assert deliveries[held[0].headers["webhook-id"]]["state"] == "delivered"
    assert deliveries[held[0].headers["webhook-id"]]["attempts"] == 2
    assert worker.process.poll() is None  # never restarted
    record_figure(
        f"webhooks PostgreSQL outage of {restored_at - cut_at:.1f} s: the queued event arrived "
        f"{queued.at - restored_at:.2f} s after the restore ({queued.at - queued_at:.2f} s after "
        f"its change); the attempt cut by the outage arrived again "
        f"{held[1].at - restored_at:.2f} s after the restore (2 copies, same webhook-id)"
    )
