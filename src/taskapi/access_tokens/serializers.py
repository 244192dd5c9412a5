"""Request and response shapes of access tokens. Input serializers check shape and format only."""

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from taskapi.access_tokens.models import (
    MAX_LIFETIME_DAYS,
    MAX_TOKENS_PER_USER,
    NAME_MAX_LENGTH,
    PersonalAccessToken,
    Scope,
)
from taskapi.access_tokens.secrets import PREFIX
from taskapi.core.schema import IdField
from taskapi.core.serializers import InputSerializer, StrictCharField, StrictDateTimeField


class ScopeField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Scope.choices, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):  # ChoiceField would match str(data)
            self.fail("invalid_choice", input=data)
        return str(super().to_internal_value(data))


class ExpiryField(StrictDateTimeField):
    """Required, in the future and at most MAX_LIFETIME_DAYS away: a token that never expires
    is a credential nobody remembers to revoke."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        now = timezone.now()
        if value <= now:
            raise serializers.ValidationError("Must be in the future.", code="past")
        if value > now + timedelta(days=MAX_LIFETIME_DAYS):
            raise serializers.ValidationError(
                f"Must be at most {MAX_LIFETIME_DAYS} days from now.", code="too_far"
            )
        return value


class TokenCreateIn(InputSerializer):
    name = StrictCharField(max_length=NAME_MAX_LENGTH)  # trimmed, then must be non-empty
    scopes = serializers.ListField(child=ScopeField(), min_length=1, max_length=len(Scope.choices))
    expires_at = ExpiryField()

    def validate_scopes(self, value: list[str]) -> list[str]:
        # Repeats count once, like a task's labels.
        return sorted(set(value))


def _timestamp(value: Any) -> str | None:
    return None if value is None else serializers.DateTimeField().to_representation(value)


class TokenOut(serializers.Serializer[Any]):
    id = IdField(read_only=True)
    name = serializers.CharField(min_length=1, max_length=NAME_MAX_LENGTH)
    prefix = serializers.CharField(help_text="The token's first characters, to recognise it.")
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices))
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance: PersonalAccessToken) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "name": instance.name,
            "prefix": f"{PREFIX}{instance.key_id}",
            "scopes": list(instance.scopes),
            "created_at": _timestamp(instance.created_at),
            "expires_at": _timestamp(instance.expires_at),
            "last_used_at": _timestamp(instance.last_used_at),
        }


class TokenWithSecretOut(TokenOut):
    token = serializers.CharField(help_text="The token itself: shown in this answer only.")

    def to_representation(self, instance: PersonalAccessToken) -> dict[str, Any]:
        # The text exists only in the request that made it: the view passes it in the context.
        return {**super().to_representation(instance), "token": self.context["token"]}


class TokenListOut(serializers.Serializer[Any]):
    results = serializers.ListField(child=TokenOut(), max_length=MAX_TOKENS_PER_USER)
