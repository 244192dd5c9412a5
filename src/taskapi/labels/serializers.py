"""Request and response shapes of labels. Input serializers check shape and format only."""

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from taskapi.core.schema import IdField
from taskapi.core.serializers import InputSerializer, PartialInput, StrictCharField
from taskapi.labels.models import MAX_LABELS_PER_USER, NAME_MAX_LENGTH, Label

COLOR_PATTERN = r"^#[0-9A-Fa-f]{6}$"


@extend_schema_field({"type": "string", "pattern": COLOR_PATTERN})
class ColorField(StrictCharField):
    """`#rrggbb` in either case (stored in lower case), exactly as the contract's pattern says:
    not trimmed (the contract trims names, not colours), and with no trailing newline, which
    Python's `$` would let through where JSON Schema's does not."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trim_whitespace=False, **kwargs)
        self.validators.append(
            RegexValidator(COLOR_PATTERN.replace("$", r"\Z"), "Use #rrggbb (hexadecimal).")
        )


class LabelCreateIn(InputSerializer):
    """POST: `name` required; `color` optional. Unknown and read-only fields are dropped."""

    name = StrictCharField(max_length=NAME_MAX_LENGTH)  # trimmed, then must be non-empty
    color = ColorField(allow_null=True, default=None)


class LabelPatchIn(PartialInput, LabelCreateIn):
    """PATCH: only the fields sent; no defaults are applied."""


def _timestamp(value: Any) -> str:
    return serializers.DateTimeField().to_representation(value)


class LabelOut(serializers.Serializer[Any]):
    id = IdField(read_only=True)
    name = serializers.CharField(min_length=1, max_length=NAME_MAX_LENGTH)
    color = serializers.RegexField(COLOR_PATTERN.replace("A-Fa-f", "a-f"), allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: Label) -> dict[str, Any]:
        return {
            "id": instance.id,
            "name": instance.name,
            "color": instance.color,
            "created_at": _timestamp(instance.created_at),
            "updated_at": _timestamp(instance.updated_at),
        }


class LabelListOut(serializers.Serializer[Any]):
    results = serializers.ListField(child=LabelOut(), max_length=MAX_LABELS_PER_USER)
