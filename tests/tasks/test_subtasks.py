"""Subtasks and their manual order: parents, depth, moves, rebalancing, the trash of a subtree."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from taskapi.core.errors import FieldsInvalid
from taskapi.sync.models import Change
from taskapi.tasks.models import MAX_DEPTH, POSITION_GAP, POSITION_LIMIT, Task
from taskapi.tasks.services import (
    task_create,
    task_erase,
    task_move,
    task_restore,
    task_trash,
)
from tests.factories import TaskFactory, UserFactory, inbox_of

pytestmark = pytest.mark.django_db


def _new(user, parent=None, title="t") -> Task:
    data = {"title": title}
    if parent is not None:
        data["parent_id"] = parent.pk
    return task_create(user=user, data=data)


def _children(user, parent) -> list[int]:
    parent_id = parent.pk if parent is not None else None
    return list(
        Task.objects.filter(project=inbox_of(user), parent_id=parent_id, deleted_at__isnull=True)
        .order_by("position", "id")
        .values_list("pk", flat=True)
    )


def _field_error(excinfo) -> tuple[str, str]:
    [error] = excinfo.value.extra["errors"]
    return error["field"], error["code"]


def _chain(user, depth: int) -> list[Task]:
    tasks = [_new(user)]
    for _ in range(depth - 1):
        tasks.append(_new(user, parent=tasks[-1]))
    return tasks


# --- creating ----------------------------------------------------------------------------------


def test_new_tasks_are_appended_last_among_their_siblings_a_gap_apart(user):
    parent = _new(user)
    first, second = _new(user, parent=parent), _new(user, parent=parent)

    assert (first.parent_id, first.position) == (parent.pk, 0)
    assert second.position == POSITION_GAP
    assert _children(user, parent) == [first.pk, second.pk]


def test_a_parent_of_another_user_is_refused_like_a_missing_one(user, other_user):
    theirs = _new(other_user)

    with pytest.raises(FieldsInvalid) as other:
        task_create(user=user, data={"title": "x", "parent_id": theirs.pk})
    with pytest.raises(FieldsInvalid) as missing:
        task_create(user=user, data={"title": "x", "parent_id": theirs.pk + 10**6})

    assert _field_error(other) == _field_error(missing) == ("parent_id", "does_not_exist")
    assert str(other.value) == str(missing.value)
    assert not Task.objects.filter(created_by=user).exists()


def test_a_parent_in_the_trash_is_refused(user):
    parent = _new(user)
    task_trash(user=user, task_id=parent.pk)

    with pytest.raises(FieldsInvalid) as excinfo:
        task_create(user=user, data={"title": "x", "parent_id": parent.pk})

    assert _field_error(excinfo) == ("parent_id", "does_not_exist")


def test_tasks_nest_down_to_the_depth_limit_and_no_deeper(user):
    chain = _chain(user, MAX_DEPTH)

    with pytest.raises(FieldsInvalid) as excinfo:
        _new(user, parent=chain[-1])

    assert _field_error(excinfo) == ("parent_id", "max_depth")


# --- moving ------------------------------------------------------------------------------------


def test_a_move_places_the_task_right_after_the_given_sibling(user):
    a, b, c = (_new(user) for _ in range(3))

    moved = task_move(user=user, task_id=c.pk, after_id=a.pk)

    assert _children(user, None) == [a.pk, c.pk, b.pk]
    assert moved.version == 2


def test_a_move_without_after_id_places_the_task_first(user):
    a, b = _new(user), _new(user)

    task_move(user=user, task_id=b.pk, after_id=None)

    assert _children(user, None) == [b.pk, a.pk]


def test_a_move_after_the_last_sibling_places_it_last(user):
    a, b, c = (_new(user) for _ in range(3))

    task_move(user=user, task_id=a.pk, after_id=c.pk)

    assert _children(user, None) == [b.pk, c.pk, a.pk]


def test_a_move_under_a_new_parent_takes_the_subtree_along(user):
    parent, task = _new(user), _new(user)
    child = _new(user, parent=task)
    existing = _new(user, parent=parent)

    task_move(user=user, task_id=task.pk, parent_id=parent.pk, after_id=existing.pk)

    assert _children(user, parent) == [existing.pk, task.pk]
    child.refresh_from_db()
    assert child.parent_id == task.pk


def test_a_move_to_the_top_level_with_a_null_parent(user):
    parent = _new(user)
    child = _new(user, parent=parent)

    task_move(user=user, task_id=child.pk, parent_id=None, after_id=parent.pk)

    assert _children(user, None) == [parent.pk, child.pk]


def test_a_move_under_itself_or_a_descendant_is_a_cycle(user):
    top, _middle, bottom = _chain(user, 3)

    for target in (top, bottom):
        with pytest.raises(FieldsInvalid) as excinfo:
            task_move(user=user, task_id=top.pk, parent_id=target.pk, after_id=None)
        assert _field_error(excinfo) == ("parent_id", "cycle")


def test_a_move_that_would_nest_the_subtree_too_deep_is_refused(user):
    deep = _chain(user, MAX_DEPTH - 1)
    subtree = _chain(user, 2)

    with pytest.raises(FieldsInvalid) as excinfo:
        task_move(user=user, task_id=subtree[0].pk, parent_id=deep[-1].pk, after_id=None)

    assert _field_error(excinfo) == ("parent_id", "max_depth")


def test_a_subtree_that_fits_exactly_may_move(user):
    deep = _chain(user, MAX_DEPTH - 2)
    subtree = _chain(user, 2)

    task_move(user=user, task_id=subtree[0].pk, parent_id=deep[-1].pk, after_id=None)

    assert _children(user, deep[-1]) == [subtree[0].pk]


def test_after_id_must_be_a_live_sibling_under_the_target_parent(user, other_user):
    parent, task = _new(user), _new(user)
    not_a_sibling = _new(user, parent=parent)
    theirs = _new(other_user)

    for after_id in (not_a_sibling.pk, theirs.pk, task.pk, 2**70):
        with pytest.raises(FieldsInvalid) as excinfo:
            task_move(user=user, task_id=task.pk, after_id=after_id)
        assert _field_error(excinfo) == ("after_id", "does_not_exist")


def test_a_move_records_the_task_in_the_change_log(user):
    _a, b = _new(user), _new(user)
    Change.objects.all().delete()

    task_move(user=user, task_id=b.pk, after_id=None)

    assert list(Change.objects.values_list("object_id", "deleted")) == [(b.pk, False)]


def test_a_move_in_the_common_case_writes_one_task_row(user):
    tasks = [_new(user) for _ in range(5)]

    with CaptureQueriesContext(connection) as queries:
        task_move(user=user, task_id=tasks[4].pk, after_id=tasks[1].pk)

    writes = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "tasks_task"')]
    assert len(writes) == 1


# --- rebalancing -------------------------------------------------------------------------------


def _move_into_the_same_gap(user, tasks, count) -> list[int]:
    """Move `count` tasks, each right after tasks[0]: every move halves the same gap."""
    for task in tasks[2 : 2 + count]:
        task_move(user=user, task_id=task.pk, after_id=tasks[0].pk)
    return [t.position for t in Task.objects.filter(project=inbox_of(user)).order_by("position")]


def test_sixteen_moves_fit_into_one_gap_without_renumbering_any_sibling(user):
    tasks = [_new(user) for _ in range(40)]
    before = {t.pk: t.version for t in tasks}

    _move_into_the_same_gap(user, tasks, 16)

    moved = {t.pk for t in tasks[2:18]}
    assert all(
        t.version == before[t.pk]
        for t in Task.objects.filter(project=inbox_of(user))
        if t.pk not in moved
    )


def test_the_seventeenth_move_into_one_gap_renumbers_a_bounded_window(user):
    tasks = [_new(user) for _ in range(200)]
    _move_into_the_same_gap(user, tasks, 16)
    order = _children(user, None)
    versions = dict(Task.objects.values_list("pk", "version"))
    Change.objects.all().delete()

    task_move(user=user, task_id=tasks[18].pk, after_id=tasks[0].pk)

    expected = order[:1] + [tasks[18].pk] + [pk for pk in order[1:] if pk != tasks[18].pk]
    assert _children(user, None) == expected
    bumped = {pk for pk, v in Task.objects.values_list("pk", "version") if v != versions[pk]}
    assert tasks[18].pk in bumped
    assert 2 <= len(bumped) <= 64  # a window around the insertion point, not 200 siblings
    assert set(Change.objects.values_list("object_id", flat=True)) == bumped
    positions = list(Task.objects.values_list("position", flat=True))
    assert len(set(positions)) == len(positions)


def test_repeated_moves_into_one_gap_keep_the_order_and_the_positions_unique(user):
    tasks = [_new(user) for _ in range(60)]
    expected = [tasks[0].pk]
    for task in tasks[2:50]:
        task_move(user=user, task_id=task.pk, after_id=tasks[0].pk)
        expected.insert(1, task.pk)

    order = _children(user, None)
    assert order[: len(expected)] == expected
    positions = [t.position for t in Task.objects.filter(project=inbox_of(user))]
    assert len(set(positions)) == len(positions)
    assert all(abs(p) < POSITION_LIMIT for p in positions)


def test_moving_first_near_the_lower_limit_renumbers_instead_of_leaving_the_safe_range(user):
    a = TaskFactory(owner=user, position=-POSITION_LIMIT + 10)
    b = TaskFactory(owner=user, position=0)

    task_move(user=user, task_id=b.pk, after_id=None)

    assert _children(user, None) == [b.pk, a.pk]
    assert all(abs(t.position) < POSITION_LIMIT for t in Task.objects.all())


def test_appending_near_the_upper_limit_renumbers_instead_of_leaving_the_safe_range(user):
    a = TaskFactory(owner=user, position=POSITION_LIMIT - 10)

    b = _new(user)

    assert _children(user, None) == [a.pk, b.pk]
    assert all(abs(t.position) < POSITION_LIMIT for t in Task.objects.all())


# --- the trash ---------------------------------------------------------------------------------


def test_deleting_a_task_trashes_its_subtree_at_once_and_records_them_together(user):
    top, middle, bottom = _chain(user, 3)
    Change.objects.all().delete()

    task_trash(user=user, task_id=top.pk)

    stamps = set(Task.objects.values_list("deleted_at", flat=True))
    assert len(stamps) == 1 and None not in stamps
    records = set(Change.objects.values_list("object_id", "deleted", "seq"))
    assert {(pk, deleted) for pk, deleted, _ in records} == {
        (top.pk, True),
        (middle.pk, True),
        (bottom.pk, True),
    }
    assert len({seq for *_, seq in records}) == 1


def test_restoring_brings_back_the_subtree_trashed_with_it_and_not_earlier_ones(user):
    top = _new(user)
    kept, earlier = _new(user, parent=top), _new(user, parent=top)
    grandchild = _new(user, parent=kept)
    task_trash(user=user, task_id=earlier.pk)
    task_trash(user=user, task_id=top.pk)

    task_restore(user=user, task_id=top.pk)

    live = set(Task.objects.filter(deleted_at__isnull=True).values_list("pk", flat=True))
    assert live == {top.pk, kept.pk, grandchild.pk}
    assert _children(user, top) == [kept.pk]


def test_a_subtask_restored_alone_under_a_trashed_parent_comes_back_top_level_and_last(user):
    other = _new(user)
    parent = _new(user)
    child = _new(user, parent=parent)
    task_trash(user=user, task_id=parent.pk)

    restored = task_restore(user=user, task_id=child.pk)

    assert restored.parent_id is None
    assert _children(user, None) == [other.pk, child.pk]


def test_a_restored_task_whose_place_was_taken_comes_back_last(user):
    a, b = _new(user), _new(user)
    task_trash(user=user, task_id=a.pk)
    c = TaskFactory(owner=user, position=a.position)  # a live task in a's slot

    task_restore(user=user, task_id=a.pk)

    assert _children(user, None) == [c.pk, b.pk, a.pk]


def test_erasing_a_task_erases_its_subtree(user):
    top, _middle, _bottom = _chain(user, 3)
    task_trash(user=user, task_id=top.pk)

    task_erase(user=user, task_id=top.pk)

    assert not Task.objects.exists()


def test_deleting_an_account_erases_its_nested_tasks(user):
    _chain(user, MAX_DEPTH)

    user.delete()

    assert not Task.objects.exists()


def test_tasks_of_other_users_are_not_renumbered_by_a_rebalance(user):
    other = UserFactory()
    theirs = _new(other)
    tasks = [_new(user) for _ in range(20)]

    _move_into_the_same_gap(user, tasks, 17)

    assert Task.objects.get(pk=theirs.pk).version == 1


# --- over HTTP ---------------------------------------------------------------------------------


def _post(api_client, **body) -> dict:
    response = api_client.post("/tasks/", {"title": "t", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_over_http_takes_parent_id_and_answers_parent_and_position(api_client):
    parent = _post(api_client)

    child = _post(api_client, parent_id=parent["id"])

    assert (child["parent_id"], child["position"]) == (parent["id"], 0)


@pytest.mark.parametrize("value", ["7", 7.0, True, [7], {"id": 7}])
def test_a_parent_id_that_is_not_a_json_integer_is_a_400(api_client, value):
    response = api_client.post("/tasks/", {"title": "t", "parent_id": value}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "parent_id"


def test_parent_id_is_ignored_by_put_and_patch(api_client):
    parent, task = _post(api_client), _post(api_client)

    put = api_client.put(
        f"/tasks/{task['id']}/", {"title": "x", "parent_id": parent["id"]}, format="json"
    )
    patch = api_client.patch(f"/tasks/{task['id']}/", {"parent_id": parent["id"]}, format="json")

    assert (put.status_code, patch.status_code) == (200, 200)
    assert put.json()["parent_id"] is None and patch.json()["parent_id"] is None


def test_move_over_http_answers_the_task_with_its_new_etag(api_client):
    a, b = _post(api_client), _post(api_client)

    response = api_client.post(f"/tasks/{b['id']}/move/", {"after_id": None}, format="json")

    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    assert response.json()["position"] < a["position"]


def test_move_with_an_empty_body_places_the_task_first(api_client):
    a, b = _post(api_client), _post(api_client)

    response = api_client.post(f"/tasks/{b['id']}/move/")

    assert response.status_code == 200
    assert response.json()["position"] < a["position"]


def test_move_with_a_stale_if_match_is_a_412_and_moves_nothing(api_client):
    _a, b = _post(api_client), _post(api_client)

    response = api_client.post(
        f"/tasks/{b['id']}/move/", {"after_id": None}, format="json", HTTP_IF_MATCH='"9"'
    )

    assert response.status_code == 412
    assert Task.objects.get(pk=b["id"]).position == b["position"]


def test_moving_another_users_task_is_a_404(api_client, other_user):
    theirs = TaskFactory(owner=other_user)

    response = api_client.post(f"/tasks/{theirs.pk}/move/", {}, format="json")

    assert response.status_code == 404
    assert Task.objects.get(pk=theirs.pk).version == 1


def test_moving_a_task_in_the_trash_is_a_404(api_client):
    task = _post(api_client)
    api_client.delete(f"/tasks/{task['id']}/")

    assert api_client.post(f"/tasks/{task['id']}/move/", {}, format="json").status_code == 404


def test_a_move_under_another_users_task_is_the_same_400_as_under_a_missing_one(
    api_client, other_user
):
    task = _post(api_client)
    theirs = TaskFactory(owner=other_user)

    answers = [
        api_client.post(f"/tasks/{task['id']}/move/", {"parent_id": pid}, format="json")
        for pid in (theirs.pk, theirs.pk + 10**9)
    ]

    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()
    assert Task.objects.get(pk=theirs.pk).version == 1


@pytest.mark.parametrize("field", ["parent_id", "after_id"])
@pytest.mark.parametrize("value", ["1", 1.5, False, 2**64, -1, 0])
def test_move_refuses_ids_that_are_not_positive_int64_integers_with_a_400(api_client, field, value):
    task = _post(api_client)

    response = api_client.post(f"/tasks/{task['id']}/move/", {field: value}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_the_list_filters_children_of_a_task_in_position_order(api_client, other_user):
    parent = _post(api_client)
    first, second = (
        _post(api_client, parent_id=parent["id"]),
        _post(api_client, parent_id=parent["id"]),
    )
    api_client.post(f"/tasks/{second['id']}/move/", {"after_id": None}, format="json")

    page = api_client.get(f"/tasks/?parent_id={parent['id']}&ordering=position").json()

    assert [t["id"] for t in page["results"]] == [second["id"], first["id"]]


def test_the_parent_id_filter_of_another_users_task_matches_nothing(api_client, other_user):
    theirs = TaskFactory(owner=other_user)
    TaskFactory(owner=other_user, parent=theirs)

    page = api_client.get(f"/tasks/?parent_id={theirs.pk}").json()

    assert page["results"] == []


def test_top_level_filters_tasks_with_and_without_a_parent(api_client):
    parent = _post(api_client)
    child = _post(api_client, parent_id=parent["id"])

    top = api_client.get("/tasks/?top_level=true").json()["results"]
    sub = api_client.get("/tasks/?top_level=false").json()["results"]

    assert [t["id"] for t in top] == [parent["id"]]
    assert [t["id"] for t in sub] == [child["id"]]


@pytest.mark.parametrize(
    "query",
    [
        "parent_id=",
        "parent_id=abc",
        "parent_id=1.0",
        "parent_id=0",
        "parent_id=" + "9" * 30,
        "parent_id=%00",
        "top_level=",
        "top_level=yes",
    ],
)
def test_bad_subtask_filters_are_a_400_naming_the_parameter(api_client, query):
    response = api_client.get(f"/tasks/?{query}")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == query.split("=")[0]


@pytest.mark.parametrize("ordering", ["position", "-position"])
def test_ordering_by_position_pages_through_every_task_once(api_client, user, ordering):
    for index in range(7):
        TaskFactory(owner=user, position=(index % 3) * 10 + index)  # distinct, not by id
    seen, url = [], f"/tasks/?ordering={ordering}&page_size=2"
    while url:
        page = api_client.get(url).json()
        seen += [(t["position"], t["id"]) for t in page["results"]]
        url = page["next"]

    assert seen == sorted(seen, reverse=ordering.startswith("-"))
    assert len(seen) == 7


@pytest.mark.parametrize("value", ["1", 1.5, True, None, 2**63])
def test_a_position_cursor_with_a_value_that_is_no_integer_is_a_400(api_client, value):
    import base64
    import json
    from urllib.parse import urlencode

    position = json.dumps(["position", value, 1])
    cursor = base64.b64encode(urlencode({"p": position}).encode()).decode()

    response = api_client.get(f"/tasks/?ordering=position&cursor={cursor}")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"
