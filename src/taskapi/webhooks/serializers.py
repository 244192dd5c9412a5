"""Request and response shapes of webhooks. Input serializers check shape and format only; the
URL's address rules need DNS and are the service's (ssrf.py)."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from taskapi.core.schema import IdField
from taskapi.core.serializers import (
    InputSerializer,
    PartialInput,
    StrictBooleanField,
    StrictCharField,
)
from taskapi.webhooks.models import (
    ERROR_MAX_LENGTH,
    EVENT_TYPES,
    MAX_WEBHOOKS_PER_USER,
    RESPONSE_BODY_MAX_LENGTH,
    TEST_EVENT_TYPE,
    URL_MAX_LENGTH,
    Delivery,
    Endpoint,
)

# Room for event types to come: a longer list stays valid.
MAX_EVENT_TYPES = 12


@extend_schema_field(
    {"type": "string", "format": "uri", "minLength": 1, "maxLength": URL_MAX_LENGTH}
)
class UrlField(StrictCharField):
    """The receiver's URL; what it may point at is the service's check (ssrf.py)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=URL_MAX_LENGTH, trim_whitespace=False, **kwargs)


class EventTypeField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=EVENT_TYPES, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):  # DRF's ChoiceField would take 1 for "1"
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class WebhookCreateIn(InputSerializer):
    """POST: `url` and `event_types` required; `active` optional. Unknown fields are dropped."""

    url = UrlField()
    event_types = serializers.ListField(
        child=EventTypeField(), min_length=1, max_length=MAX_EVENT_TYPES
    )
    active = StrictBooleanField(default=True)

    def validate_event_types(self, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("Each event type may appear once.", code="unique")
        return value


class WebhookPatchIn(PartialInput, WebhookCreateIn):
    """PATCH: only the fields sent; no defaults are applied."""


def _timestamp(value: Any) -> str | None:
    return None if value is None else serializers.DateTimeField().to_representation(value)


class WebhookOut(serializers.Serializer[Any]):
    id = IdField(read_only=True)
    url = UrlField()
    event_types = serializers.ListField(
        child=EventTypeField(), min_length=1, max_length=MAX_EVENT_TYPES
    )
    active = serializers.BooleanField()
    disabled_reason = serializers.ChoiceField(
        choices=Endpoint.DisabledReason.choices, allow_null=True, read_only=True
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: Endpoint) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "url": instance.url,
            "event_types": list(instance.event_types),
            "active": instance.active,
            "disabled_reason": instance.disabled_reason,
            "created_at": _timestamp(instance.created_at),
            "updated_at": _timestamp(instance.updated_at),
        }


class WebhookWithSecretOut(WebhookOut):
    """On create and on rotation only: the signing secret, shown once."""

    secret = serializers.CharField(read_only=True)

    def to_representation(self, instance: Endpoint) -> dict[str, Any]:
        return {**super().to_representation(instance), "secret": instance.secret}


class WebhookListOut(serializers.Serializer[Any]):
    results = serializers.ListField(child=WebhookOut(), max_length=MAX_WEBHOOKS_PER_USER)


class DeliveryOut(serializers.Serializer[Any]):
    id = IdField(read_only=True)
    event_id = serializers.CharField()
    event_type = serializers.ChoiceField(choices=[*EVENT_TYPES, TEST_EVENT_TYPE])
    state = serializers.ChoiceField(choices=Delivery.State.choices)
    attempts = serializers.IntegerField(min_value=0)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_null=True, max_length=ERROR_MAX_LENGTH)
    last_response_body = serializers.CharField(allow_null=True, max_length=RESPONSE_BODY_MAX_LENGTH)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def to_representation(self, instance: Delivery) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "event_id": instance.event_id,
            "event_type": instance.event.type,
            "state": instance.state,
            "attempts": instance.attempts,
            "last_status_code": instance.last_status_code,
            "last_error": instance.last_error,
            "last_response_body": instance.last_response_body,
            "next_attempt_at": _timestamp(instance.next_attempt_at),
            "delivered_at": _timestamp(instance.delivered_at),
            "created_at": _timestamp(instance.created_at),
        }


class DeliveryPageOut(serializers.Serializer[Any]):
    results = serializers.ListField(child=DeliveryOut(), max_length=100)
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
