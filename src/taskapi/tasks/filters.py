"""Query parameters of GET /tasks/: filters and the ordering key, validated by django-filter."""

import re
from typing import Any, ClassVar

import django_filters
from django import forms
from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from django.db.models import Q, QuerySet
from django.http import QueryDict
from rest_framework.exceptions import ErrorDetail, ValidationError

from taskapi.core.scoping import MAX_ID, HasId
from taskapi.projects import policy
from taskapi.projects.errors import ProjectNotFound
from taskapi.tasks.models import Priority, Task, TaskLabel


class TaskIdFormField(forms.IntegerField):
    """Digits only: forms.IntegerField also takes "7.0" and " 7 "."""

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        if not isinstance(value, str) or not value.isascii() or not value.isdigit():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if len(value) > 19:  # beyond int64 whatever it is; the max_value check names it
            return MAX_ID + 1
        return int(value)


class TaskIdFilter(django_filters.Filter):
    field_class = TaskIdFormField


ORDERINGS = (
    "created_at",
    "-created_at",
    "due_date",
    "-due_date",
    "updated_at",
    "-updated_at",
    "position",
    "-position",
)
DEFAULT_ORDERING = "-created_at"
SEARCH_MAX_LENGTH = 200
# Each `label` adds a semi-join to the query: bounded.
MAX_LABEL_FILTERS = 10
# Given but empty, these are not "no filter" (django-filter's reading) but an invalid value:
# "" is no date, boolean or enum member. An empty `search` matches everything, as documented.
NOT_BLANK = (
    "completed",
    "priority",
    "due_before",
    "due_after",
    "ordering",
    "parent_id",
    "top_level",
    "project_id",
    "assignee",
)
# `assignee`: me, none, or a user id.
ASSIGNEE_PATTERN = r"\A(me|none|[1-9][0-9]{0,18})\Z"


class _RepeatedParameter(forms.Widget):
    """Every value of a repeated query parameter (`label=3&label=7`)."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        return list(data.getlist(name)) if hasattr(data, "getlist") else []


class LabelIdsField(forms.Field):
    widget = _RepeatedParameter
    default_error_messages = {
        "invalid": "Enter label ids: positive integers.",
        "max_length": f"Filter by at most {MAX_LABEL_FILTERS} labels.",
    }

    def to_python(self, value: list[str] | None) -> list[int]:
        # Digits only; a bound on their number keeps int() cheap (an id beyond int64 is still
        # well formed, and matches nothing).
        value = value or []  # the widget always gives a list; None is forms.Field's signature
        if any(not re.fullmatch(r"[1-9][0-9]{0,39}", raw) for raw in value):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        ids = sorted({int(raw) for raw in value})
        if len(ids) > MAX_LABEL_FILTERS:
            raise forms.ValidationError(self.error_messages["max_length"], code="max_length")
        return ids


class LabelIdsFilter(django_filters.Filter):
    field_class = LabelIdsField


class TaskFilter(django_filters.FilterSet):
    # FilterSet.__init__ stores `data or QueryDict()`: never None, whatever its stubs allow.
    data: QueryDict | dict[str, Any]
    _form_class: ClassVar[type[Any]]  # set by get_form_class, on this class only
    user: HasId  # whose list: `assignee=me`, and the policy's question for `project_id`

    # Choices, not BooleanFilter: its widget reads "banana" as "no filter" instead of an error.
    completed = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")], method="filter_completed"
    )
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    # due_day: the due date of an all-day task, the local date of a timed one (tasks/due.py).
    due_before = django_filters.DateFilter(
        field_name="due_day", lookup_expr="lte", input_formats=["%Y-%m-%d"]
    )
    due_after = django_filters.DateFilter(
        field_name="due_day", lookup_expr="gte", input_formats=["%Y-%m-%d"]
    )
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=SEARCH_MAX_LENGTH,
        validators=[ProhibitNullCharactersValidator()],
    )
    # Tasks that carry every one of these labels. Another user's label id matches nothing.
    label = LabelIdsFilter(method="filter_labels")
    # Children of that task; an id that is not one of the user's tasks matches nothing.
    parent_id = TaskIdFilter(field_name="parent_id", min_value=1, max_value=MAX_ID)
    top_level = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")], method="filter_top_level"
    )
    # The tasks of one project; one the user cannot see is a 404, as the project itself is.
    project_id = TaskIdFilter(method="filter_project", min_value=1, max_value=MAX_ID)
    assignee = django_filters.CharFilter(
        method="filter_assignee",
        max_length=19,
        validators=[RegexValidator(ASSIGNEE_PATTERN, "Use me, none or a user id.")],
    )
    # Validated here with the filters; applied by the paginator, whose seek conditions need it.
    ordering = django_filters.ChoiceFilter(
        choices=[(o, o) for o in ORDERINGS], method="keep_queryset"
    )

    class Meta:
        model = Task
        fields: list[str] = []

    def get_form_class(self) -> type[Any]:
        # django-filter builds a new form class for every request; the filters are the same
        # every time, so one class serves them all (bench `lean-read` variant).
        form_class = type(self).__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            type(self)._form_class = form_class
        return form_class

    def filter_completed(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        return queryset.filter(completed=value == "true")

    def filter_top_level(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        return queryset.filter(parent__isnull=value == "true")

    def filter_project(self, queryset: QuerySet[Task], name: str, value: int) -> QuerySet[Task]:
        policy.require(
            user=self.user, project_id=value, permission=policy.TASK_READ, not_found=ProjectNotFound
        )
        return queryset.filter(project_id=value)

    def filter_assignee(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        assignee_id = self.user.id if value == "me" else int(value)
        if assignee_id > MAX_ID:
            return queryset.none()
        return queryset.filter(assignee_id=assignee_id)

    def filter_search(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))

    def filter_labels(
        self, queryset: QuerySet[Task], name: str, value: list[int]
    ) -> QuerySet[Task]:
        if any(label_id > MAX_ID for label_id in value):
            return queryset.none()  # no label has such an id (and SQLite would overflow)
        # One semi-join per label, each an index range on (label, task).
        for label_id in value:
            tagged = TaskLabel.objects.filter(label_id=label_id).values("task_id")
            queryset = queryset.filter(pk__in=tagged)
        return queryset

    def keep_queryset(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        return queryset

    def validated_queryset(self) -> QuerySet[Task]:
        """The filtered queryset, or a 400 validation problem naming each bad parameter."""
        errors = {} if self.is_valid() else _error_details(self.form.errors.as_data())
        for name in NOT_BLANK:
            if self.data.get(name) == "" and name not in errors:
                errors[name] = [ErrorDetail("This field may not be blank.", code="blank")]
        if errors:
            raise ValidationError(errors)
        return self.qs

    @property
    def ordering_key(self) -> str:
        return self.form.cleaned_data.get("ordering") or DEFAULT_ORDERING


def task_list_filtered(
    params: Any, queryset: QuerySet[Task], *, user: HasId
) -> tuple[QuerySet[Task], str]:
    """The tasks the query parameters select and the ordering key they ask for; a 400
    validation problem naming each bad parameter."""
    if not any(name in params for name in TaskFilter.base_filters):
        # No filter or ordering given: nothing to validate, and django-filter would return the
        # queryset as it is. Skipping it skips its per-request deep copies of every filter and
        # form field, 7 % of a worker's time on the plain list (bench/README.md).
        return queryset, DEFAULT_ORDERING
    filters = TaskFilter(params, queryset=queryset)
    filters.user = user
    return filters.validated_queryset(), filters.ordering_key


def _error_details(errors: dict[str, Any]) -> dict[str, list[ErrorDetail]]:
    # Keep Django's error codes ("invalid_choice", "max_length"): the problem shows them.
    return {
        field: [
            ErrorDetail(message, code=error.code or "invalid")
            for error in field_errors
            for message in error.messages
        ]
        for field, field_errors in errors.items()
    }


def trash_project_filter(params: Any) -> int | None:
    """GET /tasks/trash/?project_id=: the id, or None when not given; a 400 if it is no id."""
    if "project_id" not in params:
        return None
    field = TaskIdFormField(min_value=1, max_value=MAX_ID)
    try:
        value: int = field.clean(params.get("project_id"))
    except forms.ValidationError as error:
        # Several errors at once (an out-of-range id) carry their codes in error_list.
        raise ValidationError(
            {
                "project_id": [
                    ErrorDetail(message, code=each.code or "invalid")
                    for each in error.error_list
                    for message in each.messages
                ]
            }
        ) from None
    return value
