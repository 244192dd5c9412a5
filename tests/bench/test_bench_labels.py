"""The benchmark's labels: the seed's pattern (tests/bench/test_bench_smoke.py runs the rest)
and the baseline's rendering of a task's label ids, held to the project's."""

from bench.baseline_app import COLUMNS
from bench.baseline_app import _task as baseline_task
from bench.seed import LABELS_PER_USER, _label_id, _task_label_indexes

from taskapi.tasks.models import Task


def test_the_filtered_label_is_on_one_task_in_five_of_every_user():
    for tasks in (100, 1_100):
        filtered = sum(0 in _task_label_indexes(j) for j in range(tasks))

        assert filtered == tasks // 5


def test_a_seeded_task_has_at_most_two_different_labels():
    for j in range(1_100):
        indexes = _task_label_indexes(j)

        assert len(indexes) <= 2
        assert len(set(indexes)) == len(indexes)
        assert all(0 <= index < LABELS_PER_USER for index in indexes)


def test_seeded_label_ids_are_each_users_own():
    ids = [_label_id(owner, index) for owner in (1, 2, 3) for index in range(LABELS_PER_USER)]

    assert ids == list(range(1, 3 * LABELS_PER_USER + 1))


def test_the_baseline_renders_label_ids_as_the_project_does():
    for text in ("12,3,7", "5", None):
        # Every column (None but a few), then the label ids.
        columns = {name: None for name in COLUMNS} | {"id": 1, "project_id": 1, "title": "t"}
        row = (*columns.values(), text)
        task = Task()
        task.__dict__["label_ids_text"] = text

        assert len(row) == len(COLUMNS) + 1
        assert baseline_task(row)["labels"] == task.label_ids
