"""Where a task may sit in its project's tree, decided here for every write that places a task
(create, move, restore; bulk creates through create), and the walk of a subtree that trash,
restore and move share.

The rules: a parent is a live task of the same project (a missing one, one the user cannot see,
one of another project and one in the trash alike get the same 400), a task never goes under
itself or its subtasks, and no task ends up deeper than MAX_DEPTH (a top-level task is 1) once
its whole subtree is counted.
"""

from django.db.models import QuerySet

from taskapi.core.errors import FieldsInvalid
from taskapi.core.scoping import MAX_ID
from taskapi.tasks.models import MAX_DEPTH, Task
from taskapi.tasks.selectors import project_tasks

NO_SUCH_TASK = "No task with this id exists."


def _refusal(code: str, message: str) -> FieldsInvalid:
    return FieldsInvalid(message, field="parent_id", code=code)


def _ancestry(*, project_id: int, parent_id: int) -> list[int] | None:
    """`parent_id` and its ancestors, nearest first, in one query; None unless it is a live task
    of the project. At most MAX_DEPTH of them: more already makes any placement too deep."""
    if not 1 <= parent_id <= MAX_ID:
        return None
    # A live task's ancestors are live: a subtree is trashed whole, and a restore never puts a
    # task under a parent in the trash.
    lookups = ["pk", *("__".join(["parent"] * level) + "_id" for level in range(1, MAX_DEPTH))]
    rows = list(project_tasks(project_id=project_id).filter(pk=parent_id).values_list(*lookups)[:1])
    if not rows:
        return None
    return [task_id for task_id in rows[0] if task_id is not None]


def placement_refusal(
    *, project_id: int, parent_id: int | None, height: int = 1, moving_id: int | None = None
) -> FieldsInvalid | None:
    """Why a subtree `height` levels tall (1: a task alone) may not go under `parent_id`
    (None: the top level), or None if it may. `moving_id` is the root of a subtree that moves,
    which may not go under itself."""
    if parent_id is None:
        return None
    ancestry = _ancestry(project_id=project_id, parent_id=parent_id)
    if ancestry is None:
        return _refusal("does_not_exist", NO_SUCH_TASK)
    if moving_id is not None and moving_id in ancestry:
        return _refusal("cycle", "A task cannot be moved under itself or its subtasks.")
    if len(ancestry) + height > MAX_DEPTH:
        return _refusal(
            "max_depth", f"Tasks nest at most {MAX_DEPTH} levels deep (a top-level task is 1)."
        )
    return None


def placement_check(
    *, project_id: int, parent_id: int | None, height: int = 1, moving_id: int | None = None
) -> None:
    """placement_refusal as a 400."""
    refusal = placement_refusal(
        project_id=project_id, parent_id=parent_id, height=height, moving_id=moving_id
    )
    if refusal is not None:
        raise refusal


def subtree(*, tasks: QuerySet[Task], root_id: int) -> list[list[int]]:
    """`root_id` and its descendants among `tasks`, level by level, one query per level.

    Not cut off at MAX_DEPTH: rows an older release nested deeper are walked too, so a trash or
    a restore never leaves part of a subtree behind. Each id is taken once, so even a cycle in
    the rows could not make it loop.
    """
    levels = [[root_id]]
    seen = {root_id}
    while True:
        children = [
            task_id
            for task_id in tasks.filter(parent_id__in=levels[-1]).values_list("pk", flat=True)
            if task_id not in seen
        ]
        if not children:
            return levels
        seen.update(children)
        levels.append(children)


def descendants(levels: list[list[int]]) -> list[int]:
    return [task_id for level in levels[1:] for task_id in level]
