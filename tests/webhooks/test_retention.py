from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from taskapi.webhooks.models import Delivery, Event
from taskapi.webhooks.retention import webhook_log_purge
from tests.factories import WebhookFactory

pytestmark = pytest.mark.django_db


def _delivery(webhook, *, state, days_ago):
    created = timezone.now() - timedelta(days=days_ago)
    event = Event.objects.create(
        owner=webhook.owner, type="task.created", body="{}", created_at=created
    )
    return Delivery.objects.create(endpoint=webhook, event=event, state=state, created_at=created)


def test_finished_deliveries_past_the_retention_go_with_their_events(settings):
    settings.WEBHOOKS_RETENTION_DAYS = 30
    webhook = WebhookFactory()
    old_done = _delivery(webhook, state="delivered", days_ago=31)
    old_given_up = _delivery(webhook, state="given_up", days_ago=31)
    old_pending = _delivery(webhook, state="pending", days_ago=31)  # still being retried
    recent = _delivery(webhook, state="delivered", days_ago=29)

    assert webhook_log_purge(batch_size=1) == 2

    assert set(Delivery.objects.values_list("pk", flat=True)) == {old_pending.pk, recent.pk}
    assert not Event.objects.filter(pk__in=[old_done.event_id, old_given_up.event_id]).exists()
    assert Event.objects.filter(pk=old_pending.event_id).exists()


def test_queue_rows_finished_a_day_ago_are_dropped_and_waiting_ones_kept(api_client, user):
    webhook = WebhookFactory(owner=user)
    api_client.post(f"/webhooks/{webhook.pk}/test/")
    api_client.post(f"/webhooks/{webhook.pk}/test/")
    waiting, finished = DBTaskResult.objects.order_by("enqueued_at")
    DBTaskResult.objects.filter(pk=finished.pk).update(status="SUCCESSFUL")
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(days=2))

    webhook_log_purge()

    assert list(DBTaskResult.objects.values_list("pk", flat=True)) == [waiting.pk]
