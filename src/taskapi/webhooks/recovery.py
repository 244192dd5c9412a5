"""The recovery sweep: attempts whose worker died (SIGKILL, a lost machine) are made again.

A delivery is stuck when it is pending and either its lease ran out (a worker claimed an attempt
and never recorded it) or it is overdue by STALL with no lease (the queue row of its next
attempt was taken by a worker that died before claiming it). Each such delivery gets its next
attempt enqueued once: the UPDATE that picks it is conditional on what was read, so sweeps in
several workers at once enqueue it once.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from taskapi.webhooks.delivery import attempt_enqueue
from taskapi.webhooks.models import Delivery

STALL = timedelta(minutes=2)
SWEEP_BATCH = 100


def deliveries_recover() -> int:
    """Enqueue the next attempt of every stuck delivery; returns how many."""
    now = timezone.now()
    stuck = Delivery.objects.filter(state=Delivery.State.PENDING).filter(
        Q(lease_until__lt=now) | Q(lease_until__isnull=True, next_attempt_at__lt=now - STALL)
    )
    recovered = 0
    for delivery_id, attempts, lease_until, next_attempt_at in stuck.values_list(
        "pk", "attempts", "lease_until", "next_attempt_at"
    )[:SWEEP_BATCH]:
        with transaction.atomic():
            picked = Delivery.objects.filter(
                pk=delivery_id,
                state=Delivery.State.PENDING,
                attempts=attempts,
                lease_until=lease_until,
                next_attempt_at=next_attempt_at,
            ).update(lease_until=None, next_attempt_at=now)
            if picked:
                attempt_enqueue(delivery_id=delivery_id, attempt=attempts + 1)
                recovered += picked
    return recovered
