"""Request and response shapes of tasks. Input serializers check shape and format only."""

import re
from datetime import UTC, date, datetime
from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty

from taskapi.core.schema import IdField
from taskapi.core.serializers import InputSerializer
from taskapi.tasks.models import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH, Priority, Task

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class StrictCharField(serializers.CharField):
    """A JSON string only: DRF's CharField would turn 42 or true into "42" / "True"."""

    default_error_messages = {"invalid": "Not a valid string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean only: DRF's BooleanField also takes "yes", "on", 1 and "0"."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictDateField(serializers.DateField):
    """YYYY-MM-DD only: Python's fromisoformat also takes 20261201 and 2026-W49-2."""

    def to_internal_value(self, data: Any) -> date:
        if not isinstance(data, str) or not _ISO_DATE.fullmatch(data):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(data)


class TaskCreateIn(InputSerializer):
    """POST and PUT: `title` required, every other writable field back to its default.

    Only writable fields are declared, so `id`, `owner`, timestamps and unknown fields sent by
    a client are dropped here and can never reach a write.
    """

    title = StrictCharField(max_length=TITLE_MAX_LENGTH)  # trimmed, then must be non-empty
    description = StrictCharField(max_length=DESCRIPTION_MAX_LENGTH, allow_blank=True, default="")
    completed = StrictBooleanField(default=False)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.MEDIUM)
    due_date = StrictDateField(allow_null=True, default=None)


class TaskReplaceIn(TaskCreateIn):
    pass


class TaskPatchIn(TaskCreateIn):
    """PATCH: only the fields sent; no defaults are applied."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # A partial serializer never applies defaults; drop them so the schema says so too.
        for field in fields.values():
            field.default = empty
        return fields


def _timestamp(value: datetime | None) -> str | None:
    """UTC ISO 8601 ending in "Z", as DRF's DateTimeField writes it (no ".000000" at 0 us)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat()[:-6] + "Z"


# The fields are declared for the schema (drf-spectacular), and a docstring here would become
# the schema's description. to_representation builds the dict directly rather than through
# nine DRF fields per task, the bulk of a list page's rendering cost (bench `lean-read`
# variant); tests/tasks/test_serializers.py holds it to what the fields would render.
class TaskOut(serializers.Serializer):
    # Bounds and choices state what the stored row holds (models.py constraints).
    id = IdField(read_only=True)
    title = serializers.CharField(min_length=1, max_length=TITLE_MAX_LENGTH)
    description = serializers.CharField(allow_blank=True, max_length=DESCRIPTION_MAX_LENGTH)
    completed = serializers.BooleanField()
    completed_at = serializers.DateTimeField(allow_null=True, read_only=True)
    priority = serializers.ChoiceField(choices=Priority.choices)
    due_date = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: Task) -> dict[str, Any]:
        return {
            "id": instance.id,
            "title": instance.title,
            "description": instance.description,
            "completed": instance.completed,
            "completed_at": _timestamp(instance.completed_at),
            # str(): a Priority member renders as its plain value, as ChoiceField does.
            "priority": str(instance.priority),
            "due_date": instance.due_date.isoformat() if instance.due_date is not None else None,
            "created_at": _timestamp(instance.created_at),
            "updated_at": _timestamp(instance.updated_at),
        }
