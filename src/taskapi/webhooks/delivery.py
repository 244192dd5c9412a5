"""One delivery attempt, as a worker runs it, and the schedule of the next.

At-least-once: an attempt is claimed (its number written, with a lease) before the request and
its outcome recorded after, each in its own short transaction; no transaction stays open across
the HTTP request. Two workers never make the same attempt: the claim is an UPDATE conditional on
the previous attempt's number. A worker killed mid-attempt leaves a lease that runs out, and the
recovery sweep (recovery.py) enqueues the next attempt: the receiver may then get the event
twice, with the same webhook-id, which is what consumers deduplicate by.
"""

import logging
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from standardwebhooks.webhooks import Webhook

from taskapi.webhooks.models import TEST_EVENT_TYPE, Delivery, Endpoint
from taskapi.webhooks.sending import Answer, send
from taskapi.webhooks.ssrf import UrlRefused, target_checked

logger = logging.getLogger("taskapi.webhooks")
# django-tasks' queue of webhook attempts (settings.TASKS): one queue row is one attempt of one
# delivery, inserted in the transaction that creates the delivery or records the attempt before.
QUEUE = "webhooks"

# After attempt n (1-based) fails, the next comes RETRY_DELAYS[n - 1] later, ± JITTER: nine
# attempts over about 23 hours, then the delivery is given up.
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.2


def lease() -> timedelta:
    """How long a claimed attempt stays its worker's: WEBHOOKS_LEASE_SECONDS, longer than any
    attempt (checked in settings), so a live worker's lease never runs out under it."""
    return timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS)


def retry_delay(attempt: int, *, rng: random.Random | None = None) -> timedelta:
    """How long after failed attempt `attempt` the next one starts (jittered, so receivers
    that come back are not hit by every retry at once)."""
    base = RETRY_DELAYS[attempt - 1]
    return base * (1 + (rng or random).uniform(-JITTER, JITTER))


def signed_headers(*, secret: str, event_id: str, body: str, now: datetime) -> dict[str, str]:
    """Standard Webhooks headers, signed with the reference library."""
    signature = Webhook(secret).sign(msg_id=event_id, timestamp=now, data=body)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


def _claim(*, delivery_id: int, attempt: int, now: datetime) -> bool:
    return bool(
        Delivery.objects.filter(
            pk=delivery_id, state=Delivery.State.PENDING, attempts=attempt - 1
        ).update(attempts=attempt, lease_until=now + lease())
    )


def attempt_run(*, delivery_id: int, attempt: int) -> str:
    """Make attempt number `attempt` of the delivery, unless it is not the next one (already
    made by another worker, delivered, given up, or the webhook deleted). Returns the outcome."""
    if not _claim(delivery_id=delivery_id, attempt=attempt, now=timezone.now()):
        return "skipped"
    try:
        delivery = Delivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    except Delivery.DoesNotExist:  # the webhook was deleted meanwhile
        return "skipped"
    endpoint, event = delivery.endpoint, delivery.event
    if not endpoint.active and event.type != TEST_EVENT_TYPE:
        answer = Answer(None, "the webhook is not active", None)
        outcome = _record(delivery=delivery, attempt=attempt, answer=answer, give_up=True)
    else:
        try:
            target = target_checked(endpoint.url)
        except UrlRefused as refused:
            answer = Answer(None, refused.extra["errors"][0]["message"], None)
        else:
            now = timezone.now()
            headers = signed_headers(
                secret=endpoint.secret, event_id=event.pk, body=event.body, now=now
            )
            answer = send(target=target, headers=headers, body=event.body.encode())
        outcome = _record(delivery=delivery, attempt=attempt, answer=answer)
    logger.info(
        "webhook attempt",
        extra={
            "webhook_id": endpoint.pk,
            "delivery_id": delivery.pk,
            "event_id": event.pk,
            "event_type": event.type,
            "attempt": attempt,
            "status_code": answer.status_code,
            "error": answer.error,
            "outcome": outcome,
        },
    )
    return outcome


def _record(*, delivery: Delivery, attempt: int, answer: Answer, give_up: bool = False) -> str:
    now = timezone.now()
    values: dict[str, object] = {
        "last_status_code": answer.status_code,
        "last_error": answer.error,
        "last_response_body": answer.body,
        "lease_until": None,
    }
    if answer.is_success:
        values.update(state=Delivery.State.DELIVERED, delivered_at=now, next_attempt_at=None)
        outcome = "delivered"
    elif give_up or answer.status_code == 410 or attempt >= MAX_ATTEMPTS:
        values.update(state=Delivery.State.GIVEN_UP, next_attempt_at=None)
        outcome = "gone" if answer.status_code == 410 else "given_up"
    else:
        next_at = now + retry_delay(attempt)
        values.update(next_attempt_at=next_at)
        outcome = "retry"
    with transaction.atomic():
        mine = Delivery.objects.filter(
            pk=delivery.pk, attempts=attempt, state=Delivery.State.PENDING
        ).update(**values)
        if not mine:  # the webhook was deleted meanwhile
            return "skipped"
        if outcome == "retry":
            attempt_enqueue(delivery_id=delivery.pk, attempt=attempt + 1, run_after=next_at)
        if outcome == "gone":
            # The receiver says it is gone for good: stop sending anything there.
            Endpoint.objects.filter(pk=delivery.endpoint_id).update(
                active=False, disabled_reason=Endpoint.DisabledReason.GONE, updated_at=now
            )
    return outcome


@task(queue_name=QUEUE)
def delivery_attempt(delivery_id: int, attempt: int) -> str:
    return attempt_run(delivery_id=delivery_id, attempt=attempt)


def attempt_enqueue(*, delivery_id: int, attempt: int, run_after: datetime | None = None) -> None:
    queued = delivery_attempt if run_after is None else delivery_attempt.using(run_after=run_after)
    queued.enqueue(delivery_id=delivery_id, attempt=attempt)
