"""TaskOut's direct rendering against DRF's field-by-field rendering of the same fields."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from rest_framework import serializers

from taskapi.tasks.models import Priority, Task
from taskapi.tasks.selectors import Owner, task_list
from taskapi.tasks.serializers import TaskOut
from tests.factories import TaskFactory

pytestmark = pytest.mark.django_db


def _as_read(task: Task) -> Task:
    """The factory's task as the services hand it to TaskOut: with its reader's label ids
    (Task.label_ids has no fallback: labels are personal)."""
    task.label_ids = list(task.label_links.values_list("label_id", flat=True))
    return task


def _by_fields(task: Task) -> list[tuple[str, object]]:
    return list(serializers.Serializer.to_representation(TaskOut(), task).items())


def _direct(task: Task) -> list[tuple[str, object]]:
    return list(TaskOut(task).data.items())


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"due_date": date(2026, 12, 1), "priority": Priority.HIGH},
        {"completed": True, "completed_at": datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)},
        # No microseconds: DRF writes no fraction at all.
        {"completed": True, "completed_at": datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)},
        {"created_at": datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))},
        {"title": "ünïcödé", "description": "line\nbreak", "priority": "low"},
        # A due time given with an offset goes out in UTC, as the other timestamps do.
        {
            "due_at": datetime(2026, 12, 31, 23, 30, 0, 5, tzinfo=timezone(timedelta(hours=-5))),
            "time_zone": "America/New_York",
        },
        {"due_at": datetime(2026, 3, 8, 7, tzinfo=UTC), "time_zone": "UTC"},
    ],
)
def test_task_out_renders_what_its_fields_would(fields):
    task = _as_read(TaskFactory(**fields))

    assert _direct(task) == _by_fields(task)


def test_task_out_renders_a_stored_task_as_its_fields_would():
    task = TaskFactory(completed=True, completed_at=datetime.now(UTC))
    stored = task_list(user=Owner(task.created_by_id)).get(pk=task.pk)

    assert _direct(stored) == _by_fields(stored)


def test_task_out_renders_each_task_of_a_list_as_its_fields_would():
    tasks = [_as_read(TaskFactory()), _as_read(TaskFactory(due_date=date(2026, 2, 28)))]

    rendered = TaskOut(tasks, many=True).data

    assert [list(item.items()) for item in rendered] == [_by_fields(task) for task in tasks]
