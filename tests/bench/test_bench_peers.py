"""The benchmark's peers (bench/peers) render a task as the project does, and the run's body
check (bench/run.py same_bodies) tells a different body from a different cursor.
tests/bench/test_bench_smoke.py serves them and compares their live answers."""

import json
from datetime import UTC, date, datetime

import pytest
from bench.peers import fastapi_template
from bench.peers.ninja import api as ninja_api
from bench.run import _without_cursor, same_bodies
from ninja.responses import NinjaJSONEncoder

from taskapi.accounts.models import User
from taskapi.tasks.models import Task, TaskLabel
from taskapi.tasks.selectors import task_list
from taskapi.tasks.serializers import TaskOut
from tests.factories import LabelFactory, TaskFactory

TASK_FIELDS = (
    "id", "project_id", "created_by_id", "assignee_id", "title", "description", "completed",
    "completed_at", "priority", "due_date", "due_at", "time_zone", "due_day", "version",
    "created_at", "updated_at", "deleted_at", "parent_id", "position",
)  # fmt: skip


def _fastapi_body(task: Task, reader: User) -> dict:
    row = fastapi_template.Task(**{name: getattr(task, name) for name in TASK_FIELDS})
    links = TaskLabel.objects.filter(task=task, label__owner=reader)
    labels = sorted(links.values_list("label_id", flat=True))
    return fastapi_template.task_public(row, labels=labels).model_dump(mode="json")


def _ninja_body(task: Task, reader: User) -> dict:
    # What ninja does with a view's result: the Schema from the object, dumped, then its JSON
    # encoder (Django's, which alone would cut microseconds to milliseconds).
    read = ninja_api.live_tasks(reader).get(pk=task.pk)
    dumped = ninja_api.TaskOut.from_orm(read).model_dump()
    return json.loads(json.dumps(dumped, cls=NinjaJSONEncoder))


@pytest.mark.django_db
@pytest.mark.parametrize("render", [_fastapi_body, _ninja_body], ids=["fastapi", "ninja"])
def test_a_peer_renders_a_task_as_the_project_does(render):
    done = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)
    on_the_second = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)
    tasks = [
        TaskFactory(
            completed=True,
            completed_at=done,
            priority="high",
            due_date=date(2027, 1, 2),
            created_at=on_the_second,
            updated_at=done,
        ),
        TaskFactory(description="plain", created_at=done, updated_at=on_the_second),
    ]
    reader = tasks[0].created_by
    for label in (LabelFactory(owner=reader), LabelFactory(owner=reader), LabelFactory()):
        TaskLabel.objects.create(task=tasks[0], label=label)
    for task in tasks:
        project = TaskOut(task_list(user=task.created_by).get(pk=task.pk)).data

        assert render(task, task.created_by) == dict(project)
    # The reader's own two labels, not the third (another user's).
    assert len(_fastapi_body(tasks[0], reader)["labels"]) == 2


def _page(next_cursor: str, created_at: str = "2026-03-01T12:30:05Z") -> dict:
    return {
        "next": f"http://127.0.0.1:8000/tasks/?cursor={next_cursor}&page_size=20",
        "previous": None,
        "results": [{"id": 7, "created_at": created_at}],
    }


def test_the_body_check_leaves_out_the_cursor_only():
    same_bodies(
        {
            "project": {"list": _without_cursor(_page("cD0lNUIl"))},
            "peer": {"list": _without_cursor(_page("WyItY3Jl"))},
        }
    )


def test_the_body_check_refuses_another_body():
    with pytest.raises(RuntimeError, match="peer's list body differs"):
        same_bodies(
            {
                "project": {"list": _without_cursor(_page("cD0lNUIl"))},
                "peer": {"list": _without_cursor(_page("cD0lNUIl", "2026-03-01T12:30:05.000Z"))},
            }
        )
