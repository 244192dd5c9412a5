"""The project's ASGI app with a lean read path swapped in at startup (the `lean-read` variant).

- TaskOut: a plain function of the model instance instead of nine DRF field objects per task;
  datetimes stay datetimes and the orjson renderer writes them ("...Z", as DRF's format).
- TaskFilter: the same query-parameter form (built once, not per request) and the same filters,
  without django-filter's per-request deepcopy of every filter and form-class construction.
"""

from typing import Any

from taskapi.asgi import application  # noqa: F401  (sets Django up)
from taskapi.tasks import filters, views
from taskapi.tasks.models import Task


def _task_dict(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "title": task.title,
        "description": task.description,
        "completed": task.completed,
        "completed_at": task.completed_at,
        "priority": task.priority,
        "due_date": task.due_date,
        "due_at": task.due_at,
        "time_zone": task.time_zone,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
    }


class LeanTaskOut:
    def __init__(self, instance: Any, many: bool = False) -> None:
        self.data = [_task_dict(t) for t in instance] if many else _task_dict(instance)


_FORM = filters.TaskFilter(queryset=Task.objects.none()).get_form_class()


class LeanTaskFilter:
    base_filters = filters.TaskFilter.base_filters

    def __init__(self, data: Any, queryset: Any) -> None:
        self.form = _FORM(data)
        self.queryset = queryset

    def validated_queryset(self) -> Any:
        if not self.form.is_valid():
            raise filters.ValidationError(filters._error_details(self.form.errors.as_data()))
        given = self.form.cleaned_data
        qs = self.queryset
        if given.get("completed"):
            qs = qs.filter(completed=given["completed"] == "true")
        if given.get("priority"):
            qs = qs.filter(priority=given["priority"])
        if given.get("due_before"):
            qs = qs.filter(due_day__lte=given["due_before"])
        if given.get("due_after"):
            qs = qs.filter(due_day__gte=given["due_after"])
        if given.get("search"):
            text = given["search"]
            Q = filters.Q
            qs = qs.filter(Q(title__icontains=text) | Q(description__icontains=text))
        return qs

    @property
    def ordering_key(self) -> str:
        return self.form.cleaned_data.get("ordering") or filters.DEFAULT_ORDERING


views.TaskOut = LeanTaskOut
filters.TaskFilter = LeanTaskFilter
