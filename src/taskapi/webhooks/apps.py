from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "taskapi.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        from taskapi.core.events import event_interest_register
        from taskapi.webhooks import outbox

        event_interest_register(outbox.event_types_wanted)
