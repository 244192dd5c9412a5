from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "taskapi.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        from taskapi.core.events import event_listener_register
        from taskapi.core.metrics import collector_register
        from taskapi.webhooks import checks, outbox
        from taskapi.webhooks.metrics import WebhookCollector

        event_listener_register(name=outbox.LISTENER, interest=outbox.endpoints_interest)
        collector_register(WebhookCollector())
        checks.register()
