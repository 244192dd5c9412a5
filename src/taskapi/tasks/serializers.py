"""Request and response shapes of tasks. Input serializers check shape and format only."""

from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers

from taskapi.core.schema import IdField
from taskapi.core.serializers import (
    InputSerializer,
    PartialInput,
    StrictBooleanField,
    StrictCharField,
    StrictDateField,
    StrictDateTimeField,
    StrictIdField,
)
from taskapi.tasks.due import DEFAULT_TIME_ZONE, is_known_zone
from taskapi.tasks.models import (
    DESCRIPTION_MAX_LENGTH,
    MAX_LABELS_PER_TASK,
    POSITION_LIMIT,
    TIME_ZONE_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Priority,
    Task,
)


class TimeZoneField(StrictCharField):
    """An IANA zone name tzdata knows (tasks/due.py). Not a ChoiceField: the ~600 names are no
    closed enum of the contract, and a new tzdata release may add some."""

    default_error_messages = {"unknown_zone": "Not an IANA time zone name."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=TIME_ZONE_MAX_LENGTH, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        name = super().to_internal_value(data)
        # Too long or with a NUL, the value is refused by its validators, which run after this
        # and report the more precise code (max_length, null_characters_not_allowed).
        too_long = len(name) > TIME_ZONE_MAX_LENGTH
        if not too_long and "\x00" not in name and not is_known_zone(name):
            self.fail("unknown_zone")
        return name


class TaskCreateIn(InputSerializer):
    """POST and PUT: `title` required, every other writable field back to its default.

    Only writable fields are declared, so `id`, timestamps and unknown fields sent by
    a client are dropped here and can never reach a write.
    """

    title = StrictCharField(max_length=TITLE_MAX_LENGTH)  # trimmed, then must be non-empty
    description = StrictCharField(max_length=DESCRIPTION_MAX_LENGTH, allow_blank=True, default="")
    completed = StrictBooleanField(default=False)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.MEDIUM)
    due_date = StrictDateField(allow_null=True, default=None)
    # Ids of the user's labels; repeats count once. Whether they are the user's is checked by
    # the services (it needs the database).
    labels = serializers.ListField(
        child=StrictIdField(), max_length=MAX_LABELS_PER_TASK, default=list
    )
    due_at = StrictDateTimeField(allow_null=True, default=None)
    # No default: left out, it is derived from due_at (UTC here; validate()), and the service
    # refuses a zone without a due_at (tasks/due.py).
    time_zone = TimeZoneField(allow_null=True, required=False)
    # POST only: the new task goes last under this parent (null: top level). An id that is
    # not one of the user's live tasks, out of range included, is the services' 400.
    parent_id = StrictIdField(allow_null=True, default=None)
    # POST only: the project to create the task in (left out: the caller's Inbox). Whether the
    # caller may write there is the policy's (services).
    project_id = StrictIdField(required=False)
    # A member of the task's project, or null; checked by the services.
    assignee_id = StrictIdField(allow_null=True, default=None)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # POST and PUT describe the whole task: a due_at without a zone is meant in UTC, not in
        # the zone the replaced task happened to have (which PATCH keeps).
        if attrs.get("due_at") is not None and attrs.get("time_zone") is None:
            attrs["time_zone"] = DEFAULT_TIME_ZONE
        return attrs


class TaskReplaceIn(TaskCreateIn):
    # Read-only after creation, ignored like the other read-only fields: reparent by moving.
    # (None drops the inherited field, as DRF documents; the stubs expect a field there.)
    parent_id = None  # type: ignore[assignment]
    # Moved between projects by taskMove only.
    project_id = None  # type: ignore[assignment]


class TaskPatchIn(PartialInput, TaskCreateIn):
    """PATCH: only the fields sent; no defaults are applied."""

    parent_id = None  # type: ignore[assignment]  # dropped, as in TaskReplaceIn
    project_id = None  # type: ignore[assignment]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return attrs  # the zone a due_at keeps depends on the task: the service decides


def _timestamp(value: datetime | None) -> str | None:
    """UTC ISO 8601 ending in "Z", as DRF's DateTimeField writes it (no ".000000" at 0 us)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat()[:-6] + "Z"


# The fields are declared for the schema (drf-spectacular), and a docstring here would become
# the schema's description. to_representation builds the dict directly rather than through
# twelve DRF fields per task, the bulk of a list page's rendering cost (bench `lean-read`
# variant); tests/tasks/test_serializers.py holds it to what the fields would render.
class TaskOut(serializers.Serializer[Any]):
    # Bounds and choices state what the stored row holds (models.py constraints).
    id = IdField(read_only=True)
    title = serializers.CharField(min_length=1, max_length=TITLE_MAX_LENGTH)
    description = serializers.CharField(allow_blank=True, max_length=DESCRIPTION_MAX_LENGTH)
    completed = serializers.BooleanField()
    completed_at = serializers.DateTimeField(allow_null=True, read_only=True)
    priority = serializers.ChoiceField(choices=Priority.choices)
    due_date = serializers.DateField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    time_zone = serializers.CharField(
        allow_null=True, min_length=1, max_length=TIME_ZONE_MAX_LENGTH
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    labels = serializers.ListField(
        child=IdField(), max_length=MAX_LABELS_PER_TASK, source="label_ids"
    )
    parent_id = IdField(allow_null=True, read_only=True)
    position = serializers.IntegerField(
        min_value=-(POSITION_LIMIT - 1), max_value=POSITION_LIMIT - 1, read_only=True
    )
    project_id = IdField(read_only=True)
    assignee_id = IdField(allow_null=True)

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
            "due_at": _timestamp(instance.due_at),
            "time_zone": instance.time_zone,
            "created_at": _timestamp(instance.created_at),
            "updated_at": _timestamp(instance.updated_at),
            "labels": instance.label_ids,
            "parent_id": instance.parent_id,
            "position": instance.position,
            "project_id": instance.project_id,
            "assignee_id": instance.assignee_id,
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

    parent_id = StrictIdField(allow_null=True, required=False)
    after_id = StrictIdField(allow_null=True, required=False)
    # Another project to move the task (and its subtree) to; left out, it stays where it is.
    project_id = StrictIdField(required=False)
