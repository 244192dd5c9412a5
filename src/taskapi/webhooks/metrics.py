"""Webhook metrics on /metrics, read from the database at scrape time (workers serve no HTTP;
the tables are what every instance shares): deliveries by state, the queue's depth, and the
age of the oldest delivery that is due."""

from collections.abc import Iterator

from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from taskapi.webhooks.models import Delivery


class WebhookCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            by_state = dict(
                Delivery.objects.order_by().values_list("state").annotate(count=Count("id"))
            )
            now = timezone.now()
            due = Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=now)
            depth = due.count()
            oldest = due.aggregate(oldest=Min("next_attempt_at"))["oldest"]
        except DatabaseError:
            return  # the database is down: /metrics still answers, without these
        deliveries = GaugeMetricFamily(
            "taskapi_webhook_deliveries",
            "Webhook deliveries kept in the log, by state.",
            labels=["state"],
        )
        for state in Delivery.State.values:
            deliveries.add_metric([state], by_state.get(state, 0))
        yield deliveries
        yield GaugeMetricFamily(
            "taskapi_webhook_queue_depth",
            "Webhook deliveries whose next attempt is due now.",
            value=depth,
        )
        yield GaugeMetricFamily(
            "taskapi_webhook_oldest_due_seconds",
            "How long the oldest due delivery has waited for its attempt.",
            value=(now - oldest).total_seconds() if oldest else 0.0,
        )
