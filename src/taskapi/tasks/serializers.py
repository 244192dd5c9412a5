"""Request and response shapes of tasks. Input serializers check shape and format only."""

from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty

from taskapi.core.schema import IdField
from taskapi.core.serializers import (
    InputSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictDateField,
)
from taskapi.tasks.models import (
    DESCRIPTION_MAX_LENGTH,
    POSITION_LIMIT,
    TITLE_MAX_LENGTH,
    Priority,
    Task,
)


class TaskIdIn(IdField):
    """A task id in a body: a JSON integer only (DRF's IntegerField takes "7" and 7.0 too).

    Out of range is `does_not_exist`, like an id that is not the user's: the services answer
    those, and one code for all of them reveals nothing.
    """

    def to_internal_value(self, data: Any) -> int:
        if type(data) is not int:
            self.fail("invalid")
        return data


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
    # POST only: the new task goes last under this parent (null: top level).
    parent_id = TaskIdIn(allow_null=True, default=None)


class TaskReplaceIn(TaskCreateIn):
    # Read-only after creation, ignored like the other read-only fields: reparent by moving.
    parent_id = None  # type: ignore[assignment]


class TaskPatchIn(TaskCreateIn):
    """PATCH: only the fields sent; no defaults are applied."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)

    parent_id = None  # type: ignore[assignment]

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
    parent_id = IdField(allow_null=True, read_only=True)
    position = serializers.IntegerField(
        min_value=-(POSITION_LIMIT - 1), max_value=POSITION_LIMIT - 1, read_only=True
    )

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
            "parent_id": instance.parent_id,
            "position": instance.position,
        }


class TrashedTaskOut(TaskOut):
    deleted_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: Task) -> dict[str, Any]:
        return {
            **super().to_representation(instance),
            "deleted_at": _timestamp(instance.deleted_at),
        }


class TaskMoveIn(InputSerializer):
    """POST /tasks/{id}/move/. `parent_id` left out keeps the current parent; null is the top
    level. `after_id` left out or null places the task first."""

    parent_id = TaskIdIn(allow_null=True, required=False)
    after_id = TaskIdIn(allow_null=True, required=False)
