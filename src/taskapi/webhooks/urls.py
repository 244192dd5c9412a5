from django.urls import path

from taskapi.webhooks.views import (
    WebhookDeliveryListView,
    WebhookDetailView,
    WebhookListView,
    WebhookRotateSecretView,
    WebhookTestView,
)

# Names are the operationIds of openapi.yaml.
list_view = WebhookListView.as_view()
detail_view = WebhookDetailView.as_view()

urlpatterns = [
    path("", list_view, name="webhookList"),
    path("", list_view, name="webhookCreate"),
    path("<int:webhook_id>/", detail_view, name="webhookGet"),
    path("<int:webhook_id>/", detail_view, name="webhookUpdate"),
    path("<int:webhook_id>/", detail_view, name="webhookDelete"),
    path(
        "<int:webhook_id>/rotate-secret/",
        WebhookRotateSecretView.as_view(),
        name="webhookRotateSecret",
    ),
    path(
        "<int:webhook_id>/deliveries/",
        WebhookDeliveryListView.as_view(),
        name="webhookDeliveryList",
    ),
    path("<int:webhook_id>/test/", WebhookTestView.as_view(), name="webhookTest"),
]
