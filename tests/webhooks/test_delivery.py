"""Deliveries to a real loopback receiver, made by the real worker command (django-tasks-db's
worker in batch mode: it runs every attempt that is due, then exits)."""

import contextlib
import signal
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from standardwebhooks.webhooks import Webhook

from taskapi.webhooks import delivery as delivery_module
from taskapi.webhooks.models import RESPONSE_BODY_MAX_LENGTH, Delivery, Endpoint, Event
from tests.factories import WebhookFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _work() -> None:
    """The worker, until nothing is due."""
    call_command("webhooks_worker", batch=True, startup_delay=False, interval=0, verbosity=0)


def _make_retries_due() -> None:
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())


def _create_task(api_client, **body):
    response = api_client.post("/tasks/", {"title": "write the report", **body}, format="json")
    assert response.status_code == 201
    return response.json()


def test_a_created_task_is_delivered_signed_by_the_standard_webhooks_library(
    api_client, user, receiver
):
    webhook = WebhookFactory(owner=user, url=receiver.url)
    task = _create_task(api_client)

    _work()

    (received,) = receiver.wait_for(1)
    payload = Webhook(webhook.secret).verify(received.body, received.headers)
    assert payload["type"] == "task.created"
    assert payload["data"] == api_client.get(f"/tasks/{task['id']}/").json()
    assert received.headers["webhook-id"] == payload["id"] == Event.objects.get().pk
    assert received.headers["user-agent"] == "cloud-task-api-webhooks/1"
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 204)


def test_a_signature_with_another_secret_does_not_verify(api_client, user, receiver):
    WebhookFactory(owner=user, url=receiver.url)
    _create_task(api_client)
    _work()
    (received,) = receiver.wait_for(1)

    other = WebhookFactory.build().secret
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(other).verify(received.body, received.headers)


def test_each_change_produces_exactly_its_events_in_order(api_client, user, receiver):
    WebhookFactory(owner=user, url=receiver.url)
    task = _create_task(api_client)
    url = f"/tasks/{task['id']}/"
    assert api_client.patch(url, {"title": "renamed"}, format="json").status_code == 200
    assert api_client.patch(url, {"completed": True}, format="json").status_code == 200
    assert api_client.patch(url, {"completed": False}, format="json").status_code == 200
    assert api_client.delete(url).status_code == 204
    assert api_client.post(f"/tasks/{task['id']}/restore/").status_code == 200
    label = api_client.post("/labels/", {"name": "home"}, format="json").json()
    assert api_client.delete(f"/labels/{label['id']}/").status_code == 204

    _work()

    received = receiver.wait_for(8)
    assert [r.json["type"] for r in sorted(received, key=lambda r: r.json["id"])] == [
        "task.created",
        "task.updated",
        "task.completed",
        "task.uncompleted",
        "task.deleted",
        "task.restored",
        "label.created",
        "label.deleted",
    ]
    assert len({r.json["id"] for r in received}) == 8
    deleted = next(r.json for r in received if r.json["type"] == "task.deleted")
    assert deleted["data"]["id"] == task["id"] and deleted["data"]["deleted_at"]


def test_a_webhook_gets_only_the_event_types_it_asked_for(api_client, user, receiver):
    WebhookFactory(owner=user, url=receiver.url, event_types=["task.completed"])
    task = _create_task(api_client)
    api_client.patch(f"/tasks/{task['id']}/", {"completed": True}, format="json")

    _work()

    assert [r.json["type"] for r in receiver.wait_for(1)] == ["task.completed"]
    assert Event.objects.count() == 1


def test_another_users_changes_never_reach_a_webhook(api_client, user, receiver):
    WebhookFactory(url=receiver.url)  # another user's webhook
    mine = WebhookFactory(owner=user)  # so the change does have an event
    _create_task(api_client)

    _work()

    assert receiver.received == []
    assert list(Delivery.objects.values_list("endpoint_id", flat=True)) == [mine.pk]


def test_a_change_rolled_back_produces_no_event(user, receiver):
    from django.db import transaction

    from taskapi.tasks.services import task_create

    WebhookFactory(owner=user, url=receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        task_create(user=user, data={"title": "never"})
        raise RuntimeError("the request failed after the write")

    _work()

    assert not Event.objects.exists() and not DBTaskResult.objects.exists()
    assert receiver.received == []


def test_a_receiver_that_fails_n_times_gets_the_event_on_attempt_n_plus_1(
    api_client, user, receiver, monkeypatch
):
    monkeypatch.setattr(delivery_module, "RETRY_DELAYS", (timedelta(0),) * 8)
    receiver.answer_with(500, 503, 429)
    WebhookFactory(owner=user, url=receiver.url)
    _create_task(api_client)

    for _ in range(4):
        _work()
        _make_retries_due()

    received = receiver.wait_for(4)
    assert len(received) == 4
    assert len({r.headers["webhook-id"] for r in received}) == 1
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 4, 204)


def test_a_failed_attempt_schedules_the_next_with_backoff_and_logs_the_answer(
    api_client, user, receiver
):
    receiver.answer_with(500)
    WebhookFactory(owner=user, url=receiver.url)
    _create_task(api_client)
    before = timezone.now()

    _work()

    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.last_response_body == "ok"
    # 30 s ± 20 %
    assert (
        before + timedelta(seconds=23) < delivery.next_attempt_at < before + timedelta(seconds=40)
    )
    queued = DBTaskResult.objects.get(status="READY")
    assert queued.run_after == delivery.next_attempt_at
    assert queued.args_kwargs["kwargs"] == {"delivery_id": delivery.pk, "attempt": 2}


def test_the_last_attempt_failing_gives_the_delivery_up(api_client, user, receiver, monkeypatch):
    monkeypatch.setattr(delivery_module, "RETRY_DELAYS", (timedelta(0),) * 8)
    receiver.answer_with(*[500] * 9)
    WebhookFactory(owner=user, url=receiver.url)
    _create_task(api_client)

    for _ in range(10):
        _work()
        _make_retries_due()

    assert len(receiver.received) == delivery_module.MAX_ATTEMPTS == 9
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("given_up", 9, None)


def test_a_410_disables_the_webhook_and_stops_sending(api_client, user, receiver):
    receiver.answer_with(410)
    webhook = WebhookFactory(owner=user, url=receiver.url)
    _create_task(api_client)
    _work()

    webhook.refresh_from_db()
    assert (webhook.active, webhook.disabled_reason) == (False, "gone")
    assert Delivery.objects.get().state == "given_up"
    _create_task(api_client)
    _work()
    assert len(receiver.received) == 1


def test_a_redirect_is_not_followed(api_client, user, receiver):
    receiver.answer_with(307)
    WebhookFactory(owner=user, url=receiver.url)
    _create_task(api_client)

    _work()

    assert len(receiver.received) == 1
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.last_status_code) == ("pending", 307)


def test_a_slow_receiver_is_cut_at_the_total_timeout(api_client, user, receiver, settings):
    settings.WEBHOOKS_CONNECT_TIMEOUT = 0.5
    settings.WEBHOOKS_TIMEOUT = 0.5
    receiver.delay = 2.0
    WebhookFactory(owner=user, url=receiver.url)
    _create_task(api_client)

    _work()

    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.last_status_code) == ("pending", None)
    assert delivery.last_error == "timed out after 0.5 s"


# A receiver that trickles its answer: the attempt's deadline (WEBHOOKS_TIMEOUT, 15 s in the
# contract) is lowered to a second or two so that each of these takes about that long.
STATUS_LINE = b"HTTP/1.1 200 OK\r\n"
FRAMINGS = ["content-length", "chunked", "connection-close"]


def _deadline(settings, seconds: float) -> None:
    settings.WEBHOOKS_CONNECT_TIMEOUT = min(seconds, 0.5)
    settings.WEBHOOKS_TIMEOUT = seconds


def _framed(framing: str, pieces: int) -> tuple[bytes, list[bytes]]:
    """The end of the headers that announces `framing`, and a body of `pieces` pieces of ten
    bytes each (the last piece of a chunked body is its end)."""
    if framing == "content-length":
        return b"Content-Length: %d\r\n\r\n" % (pieces * 10), [b"x" * 10] * pieces
    if framing == "chunked":
        chunk = b"a\r\n" + b"x" * 10 + b"\r\n"
        return b"Transfer-Encoding: chunked\r\n\r\n", [chunk] * pieces + [b"0\r\n\r\n"]
    return b"Connection: close\r\n\r\n", [b"x" * 10] * pieces


def _assert_retried_at_the_deadline(delivery: Delivery, seconds: float) -> None:
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.last_error == f"timed out after {seconds:g} s"
    assert delivery.delivered_at is None
    queued = DBTaskResult.objects.get(status="READY")
    assert queued.args_kwargs["kwargs"] == {"delivery_id": delivery.pk, "attempt": 2}


def test_a_receiver_that_never_ends_its_headers_is_retried_at_the_deadline(
    api_client, user, receiver, settings
):
    _deadline(settings, 1.0)
    # A status line, then one header line every 0.1 s for 10 s, never the blank line.
    headers = [b"X-Wait-%d: 1\r\n" % number for number in range(100)]
    receiver.trickle_next(STATUS_LINE, *headers, every=0.1)
    WebhookFactory(owner=user, url=receiver.url)
    _create_task(api_client)

    _work()

    _assert_retried_at_the_deadline(Delivery.objects.get(), 1.0)
    (received,) = receiver.received
    assert time.monotonic() - received.at < 5  # cut at the deadline, not after the receiver's 10 s


@pytest.mark.parametrize("framing", FRAMINGS)
def test_a_body_still_arriving_at_the_deadline_is_retried(
    api_client, user, receiver, settings, framing
):
    _deadline(settings, 1.0)
    end_of_headers, body = _framed(framing, 20)  # one piece every 0.1 s: 2 s of body
    receiver.trickle_next(STATUS_LINE + end_of_headers, *body, every=0.1)
    WebhookFactory(owner=user, url=receiver.url)
    _create_task(api_client)

    _work()

    _assert_retried_at_the_deadline(Delivery.objects.get(), 1.0)


@pytest.mark.parametrize("framing", FRAMINGS)
def test_an_answer_trickled_but_complete_before_the_deadline_is_delivered(
    api_client, user, receiver, settings, framing
):
    _deadline(settings, 2.0)
    # One piece every 0.1 s: the answer is complete after about 1 s, 1 s before the deadline.
    end_of_headers, body = _framed(framing, 6)
    head = [STATUS_LINE, b"X-Wait-1: 1\r\n", b"X-Wait-2: 1\r\n", end_of_headers]
    receiver.trickle_next(*head, *body, every=0.1)
    WebhookFactory(owner=user, url=receiver.url)
    _create_task(api_client)

    started = time.monotonic()
    _work()
    elapsed = time.monotonic() - started

    assert elapsed > 0.9  # the whole trickle was waited for
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert (delivery.last_error, delivery.last_response_body) == (None, "x" * 60)


def test_a_body_longer_than_what_is_read_counts_once_that_much_has_arrived(
    api_client, user, receiver, settings
):
    """Only the first RESPONSE_BODY_MAX_LENGTH characters (times four, in bytes) are read: a
    receiver that sends those and keeps the rest coming has answered in full."""
    _deadline(settings, 1.0)
    read = RESPONSE_BODY_MAX_LENGTH * 4
    head = STATUS_LINE + b"Content-Length: %d\r\n\r\n" % (read * 10)
    receiver.trickle_next(head + b"x" * read, *[b"x" * 10] * 30, every=0.1)
    WebhookFactory(owner=user, url=receiver.url)
    _create_task(api_client)

    _work()

    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.last_status_code, delivery.last_error) == (
        "delivered",
        200,
        None,
    )
    assert delivery.last_response_body == "x" * RESPONSE_BODY_MAX_LENGTH


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (STATUS_LINE + b"X-Wait-1: 1\r\n", "the answer ended before its headers did"),
        (
            STATUS_LINE + b"Content-Length: 10\r\n\r\nxxxx",
            "the answer ended before its body did",
        ),
        (
            STATUS_LINE + b"Transfer-Encoding: chunked\r\n\r\na\r\nxxxx",
            "the answer ended before its body did",
        ),
    ],
    ids=["headers", "content-length", "chunked"],
)
def test_an_answer_cut_short_by_the_receiver_is_retried(api_client, user, receiver, answer, error):
    receiver.trickle_next(answer, every=0)
    WebhookFactory(owner=user, url=receiver.url)
    _create_task(api_client)

    _work()

    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.last_error == error


def test_a_deleted_webhook_gets_nothing_already_queued(api_client, user, receiver):
    webhook = WebhookFactory(owner=user, url=receiver.url)
    _create_task(api_client)
    Endpoint.objects.filter(pk=webhook.pk).delete()

    _work()

    assert receiver.received == []


def test_every_attempt_checks_the_address_again(api_client, user, receiver, monkeypatch):
    """DNS can change after the webhook was saved: an attempt whose host now resolves to a
    forbidden address sends nothing."""
    from taskapi.webhooks import ssrf

    port = receiver.server.server_address[1]
    answers = {"receiver.test": "127.0.0.1"}

    def resolve(host, port, **kwargs):
        return [(2, 1, 6, "", (answers[host], port))]

    monkeypatch.setattr(ssrf.socket, "getaddrinfo", resolve)
    created = api_client.post(
        "/webhooks/",
        {"url": f"http://receiver.test:{port}/hook", "event_types": ["task.created"]},
        format="json",
    )
    assert created.status_code == 201
    answers["receiver.test"] = "10.0.0.1"
    _create_task(api_client)

    _work()

    assert receiver.received == []
    delivery = Delivery.objects.get()
    assert delivery.state == "pending"
    assert "a private address" in delivery.last_error


# The signals db_worker's loop handles while it runs.
WORKER_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


def test_the_worker_run_in_process_hands_its_signals_back_when_it_returns(
    api_client, user, receiver
):
    """A test run stopped by SIGTERM must stop as a test run, not as the worker that a test
    ran earlier in the same process."""
    WebhookFactory(owner=user, url=receiver.url)
    _create_task(api_client)
    caught: list[int] = []

    def note(signum, frame):
        caught.append(signum)

    with contextlib.ExitStack() as restore:
        for signum in WORKER_SIGNALS:
            restore.callback(signal.signal, signum, signal.signal(signum, note))

        _work()

        assert [signal.getsignal(signum) for signum in WORKER_SIGNALS] == [note] * 3
        signal.raise_signal(signal.SIGTERM)
    assert caught == [signal.SIGTERM]
    assert Delivery.objects.get().state == "delivered"  # the worker did run
