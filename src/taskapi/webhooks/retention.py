"""How long the webhook tables keep what is done: the delivery log for WEBHOOKS_RETENTION_DAYS
(deliveries delivered or given up, then their events), and the queue's finished rows for a day.
Run by each worker's housekeeping (management/commands/webhooks_worker.py) in bounded batches,
safely from several workers at once (core/purge.py)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from taskapi.core.purge import purge_in_batches
from taskapi.webhooks.models import Delivery, Event

PURGE_BATCH_SIZE = 500
QUEUE_RESULTS_KEPT = timedelta(days=1)


def webhook_log_purge(*, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Drop finished deliveries older than the retention, events left without deliveries, and
    finished queue rows; returns how many deliveries went."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOKS_RETENTION_DAYS)
    finished = Delivery.objects.filter(
        state__in=[Delivery.State.DELIVERED, Delivery.State.GIVEN_UP], created_at__lt=cutoff
    )
    purged = purge_in_batches(finished, oldest_first="created_at", batch_size=batch_size)
    orphans = Event.objects.filter(created_at__lt=cutoff, deliveries__isnull=True)
    purge_in_batches(orphans, oldest_first="created_at", batch_size=batch_size)
    # Finished, or left RUNNING by a worker that died (recovery.py has enqueued the attempt anew).
    done = DBTaskResult.objects.exclude(status="READY").filter(
        enqueued_at__lt=timezone.now() - QUEUE_RESULTS_KEPT
    )
    purge_in_batches(done, oldest_first="enqueued_at", batch_size=batch_size)
    return purged
