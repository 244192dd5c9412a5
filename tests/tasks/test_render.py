"""The read path's bytes (tasks/render.py) against DRF's: TaskOut's data through DRF's
JSONRenderer, as every other route renders a task."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from rest_framework.renderers import JSONRenderer

from taskapi.tasks.models import Priority, TaskLabel
from taskapi.tasks.render import json_bytes, task_body, task_rows
from taskapi.tasks.selectors import task_get, task_list, task_trash_list, task_trashed_get
from taskapi.tasks.serializers import TaskOut, TrashedTaskOut
from tests.factories import LabelFactory, TaskFactory

pytestmark = pytest.mark.django_db


def _drf(data: object) -> bytes:
    return JSONRenderer().render(data)


TASKS = [
    {},
    {"due_date": date(2026, 12, 1), "priority": Priority.HIGH},
    {"completed": True, "completed_at": datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)},
    {"completed": True, "completed_at": datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)},
    {"created_at": datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))},
    # Non-ASCII kept, control characters escaped, U+2028/U+2029 escaped as DRF escapes them.
    {"title": "ünïcödé 😀 \u2028 \u2029", "description": 'line\nbreak\t\x01\x7f " \\ /'},
    {
        "due_at": datetime(2026, 12, 31, 23, 30, 0, 5, tzinfo=timezone(timedelta(hours=-5))),
        "time_zone": "America/New_York",
    },
    {"due_at": datetime(1, 1, 1, tzinfo=UTC), "time_zone": "UTC", "position": -(2**40)},
]


@pytest.mark.parametrize("fields", TASKS)
def test_a_task_renders_the_bytes_drf_renders(user, fields):
    task = TaskFactory(owner=user, **fields)
    for label in sorted((LabelFactory(owner=user) for _ in range(3)), key=lambda x: -x.pk):
        TaskLabel.objects.create(task=task, label=label)  # written in descending id order

    row = task_rows(task_list(user=user)).get(pk=task.pk)

    assert json_bytes(task_body(row)) == _drf(TaskOut(task_get(user=user, task_id=task.pk)).data)


def test_a_trashed_task_renders_the_bytes_drf_renders(user):
    task = TaskFactory(owner=user, deleted_at=datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC))

    row = task_rows(task_trash_list(user=user), "deleted_at").get(pk=task.pk)

    expected = TrashedTaskOut(task_trashed_get(user=user, task_id=task.pk)).data
    assert json_bytes({**task_body(row), "deleted_at": row["deleted_at"]}) == _drf(expected)


def test_the_list_and_the_single_read_answer_drfs_bytes(light_client, user):
    for fields in TASKS:
        TaskFactory(owner=user, **fields)
    tasks = list(task_list(user=user).order_by("-created_at", "-id"))

    page = light_client.get("/tasks/?page_size=5")
    read = light_client.get(f"/tasks/{tasks[0].pk}/")

    assert page["Content-Type"] == read["Content-Type"] == "application/json"
    expected_page = {
        "next": page.json()["next"],  # the cursor itself is the paginator's, unchanged
        "previous": None,
        "results": TaskOut(tasks[:5], many=True).data,
    }
    assert page.content == _drf(expected_page)
    assert read.content == _drf(TaskOut(tasks[0]).data)
    assert read["ETag"] == f'"{tasks[0].version}"'
