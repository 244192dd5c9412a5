"""The shape of a user's task tree holds on every path that places or removes a task: create,
move, restore, bulk, trash and erase. No live task is nested deeper than MAX_DEPTH, no live task
sits under a task in the trash, and trash and erase take a whole subtree, however deep it got.
"""

import pytest

from taskapi.tasks.models import MAX_DEPTH, Task
from taskapi.tasks.services import task_erase, task_restore, task_trash
from tests.factories import TaskFactory, inbox_of

pytestmark = pytest.mark.django_db


def _depths(user) -> dict[int, int]:
    """Every live task's level in the user's Inbox (a top-level task is 1), from the rows
    themselves."""
    parents = dict(
        Task.objects.filter(project=inbox_of(user), deleted_at__isnull=True).values_list(
            "pk", "parent"
        )
    )
    depths: dict[int, int] = {}
    for task_id in parents:
        level, node = 1, parents[task_id]
        while node is not None:
            level, node = level + 1, parents.get(node)
        depths[task_id] = level
    return depths


def _live_under_trash(user) -> set[int]:
    """Live tasks of the user's Inbox whose parent is not live (in the trash)."""
    return set(
        Task.objects.filter(project=inbox_of(user), deleted_at__isnull=True, parent__isnull=False)
        .exclude(parent__deleted_at__isnull=True)
        .values_list("pk", flat=True)
    )


def _chain(api_client, depth: int) -> list[int]:
    ids: list[int] = []
    for _ in range(depth):
        body = {"title": "t"} if not ids else {"title": "t", "parent_id": ids[-1]}
        response = api_client.post("/tasks/", body, format="json")
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    return ids


def _live_ids(api_client) -> set[int]:
    return {task["id"] for task in api_client.get("/tasks/?page_size=100").json()["results"]}


def test_a_subtask_restored_under_a_parent_that_moved_deeper_comes_back_within_the_depth_limit(
    api_client, user
):
    _l1, l2, _l3 = _chain(api_client, 3)
    a, b, c = _chain(api_client, 3)
    assert api_client.delete(f"/tasks/{c}/").status_code == 204
    assert api_client.post(f"/tasks/{a}/move/", {"parent_id": l2}, format="json").status_code == 200

    restored = api_client.post(f"/tasks/{c}/restore/")

    assert restored.status_code == 200
    # Under b it would be level 5: it comes back at the top level, as under a parent in the trash.
    assert restored.json()["parent_id"] is None
    assert max(_depths(user).values()) <= MAX_DEPTH
    assert b in _depths(user)


def test_a_subtree_restored_under_a_parent_that_moved_deeper_keeps_its_shape_at_the_top_level(
    api_client, user
):
    _l1, _l2, l3 = _chain(api_client, 3)
    a, b, c = _chain(api_client, 3)
    assert api_client.delete(f"/tasks/{b}/").status_code == 204
    assert api_client.post(f"/tasks/{a}/move/", {"parent_id": l3}, format="json").status_code == 200

    restored = api_client.post(f"/tasks/{b}/restore/")

    assert restored.json()["parent_id"] is None
    depths = _depths(user)
    assert (depths[a], depths[b], depths[c]) == (4, 1, 2)
    assert max(depths.values()) <= MAX_DEPTH


def test_a_subtask_restored_under_a_parent_with_room_returns_to_it(api_client, user):
    _a, b, c = _chain(api_client, 3)
    assert api_client.delete(f"/tasks/{c}/").status_code == 204

    restored = api_client.post(f"/tasks/{c}/restore/")

    assert restored.json()["parent_id"] == b
    assert _depths(user)[c] == 3


def test_after_the_restore_trashing_the_top_hides_every_descendant(api_client, user):
    l1, l2, _l3 = _chain(api_client, 3)
    a, _b, c = _chain(api_client, 3)
    api_client.delete(f"/tasks/{c}/")
    api_client.post(f"/tasks/{a}/move/", {"parent_id": l2}, format="json")
    api_client.post(f"/tasks/{c}/restore/")

    assert api_client.delete(f"/tasks/{l1}/").status_code == 204

    assert _live_ids(api_client) == {c}
    assert _live_under_trash(user) == set()


def test_trash_and_erase_walk_a_subtree_deeper_than_the_limit(user):
    """Rows nested too deep by an older release: the walk must not stop at MAX_DEPTH."""
    chain = [TaskFactory(owner=user)]
    for _ in range(MAX_DEPTH + 3):
        chain.append(TaskFactory(owner=user, parent=chain[-1]))
    bystander = TaskFactory(owner=user)

    task_trash(user=user, task_id=chain[0].pk)

    assert set(Task.objects.filter(deleted_at__isnull=True).values_list("pk", flat=True)) == {
        bystander.pk
    }
    restored = task_restore(user=user, task_id=chain[0].pk)
    assert restored.parent_id is None
    assert Task.objects.filter(deleted_at__isnull=True).count() == len(chain) + 1

    task_trash(user=user, task_id=chain[0].pk)
    task_erase(user=user, task_id=chain[0].pk)

    assert list(Task.objects.values_list("pk", flat=True)) == [bystander.pk]
