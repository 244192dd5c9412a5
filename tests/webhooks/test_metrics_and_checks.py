import io

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.factories import WebhookFactory

pytestmark = pytest.mark.django_db


def test_metrics_show_deliveries_by_state_and_the_queue_depth(api_client, user, client):
    webhook = WebhookFactory(owner=user)
    for _ in range(3):
        api_client.post(f"/webhooks/{webhook.pk}/test/")

    page = client.get("/metrics").content.decode()

    assert 'taskapi_webhook_deliveries{state="pending"} 3.0' in page
    assert 'taskapi_webhook_deliveries{state="delivered"} 0.0' in page
    assert "taskapi_webhook_queue_depth 3.0" in page
    assert "django_http_requests_total_by_method_total" in page  # django-prometheus' own


def test_check_deploy_warns_when_loopback_receivers_are_allowed(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    with pytest.raises(SystemCheckError, match=r"taskapi\.webhooks\.W001"):
        call_command("check", "--deploy", "--fail-level", "WARNING", tags=["security"])


def test_check_deploy_is_quiet_about_webhooks_by_default(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    output = io.StringIO()

    call_command("check", "--deploy", tags=["security"], stdout=output, stderr=output)

    assert "System check identified" in output.getvalue()  # it ran, and reported
    assert "taskapi.webhooks.W001" not in output.getvalue()
