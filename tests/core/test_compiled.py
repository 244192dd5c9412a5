"""core.compiled: a values() read compiled once per connection gives what values() gives."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from taskapi.core.compiled import CompiledRead
from taskapi.tasks.models import Task, TaskLabel
from taskapi.tasks.render import TASK_COLUMNS
from taskapi.tasks.selectors import Owner, task_list
from tests.factories import LabelFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db


def _build(*, owner_id: int, task_id: int) -> QuerySet[Task, dict[str, Any]]:
    return task_list(user=Owner(owner_id)).filter(pk=task_id).values(*TASK_COLUMNS)


def _task() -> Task:
    task = TaskFactory(
        title="ünïcödé",
        completed=True,
        completed_at=datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC),
        due_date=date(2026, 12, 1),
    )
    for label in (LabelFactory(owner=task.created_by), LabelFactory(owner=task.created_by)):
        TaskLabel.objects.create(task=task, label=label)
    return task


def test_a_compiled_read_gives_the_row_values_gives():
    task = _task()
    read = CompiledRead(_build, "owner_id", "task_id")

    rows = read.rows(owner_id=task.created_by_id, task_id=task.pk)

    assert rows == [_build(owner_id=task.created_by_id, task_id=task.pk).get()]
    assert rows[0]["completed_at"] == datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    assert rows[0]["due_date"] == date(2026, 12, 1)


def test_the_second_read_takes_new_values_and_compiles_nothing():
    first, second = _task(), _task()
    built = []

    def build(**values: int) -> QuerySet[Task, dict[str, Any]]:
        built.append(values)
        return _build(**values)

    read = CompiledRead(build, "owner_id", "task_id")
    read.rows(owner_id=first.created_by_id, task_id=first.pk)
    with CaptureQueriesContext(connection) as queries:
        rows = read.rows(owner_id=second.created_by_id, task_id=second.pk)

    assert [row["id"] for row in rows] == [second.pk]
    assert len(built) == 1
    assert len(queries) == 1


def test_another_owners_task_is_not_read():
    task = _task()
    stranger = UserFactory()
    read = CompiledRead(_build, "owner_id", "task_id")

    assert read.rows(owner_id=stranger.pk, task_id=task.pk) == []


@pytest.mark.parametrize("value", [True, 1.0, "1", None])
def test_only_integers_are_taken(value):
    read = CompiledRead(_build, "owner_id", "task_id")

    with pytest.raises(TypeError):
        read.rows(owner_id=value, task_id=1)


def test_a_value_the_sql_does_not_carry_is_refused():
    def build(*, owner_id: int, task_id: int) -> QuerySet[Task, dict[str, Any]]:
        return Task.objects.filter(created_by_id=owner_id).values("id")  # task_id unused

    read = CompiledRead(build, "owner_id", "task_id")

    with pytest.raises(ValueError, match="every value"):
        read.rows(owner_id=1, task_id=1)
