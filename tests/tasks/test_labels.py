"""Labels on tasks: setting them, filtering by them, and deleting a label, over HTTP."""

import pytest

from taskapi.labels.models import Label
from taskapi.projects.models import Membership, Project, Role
from taskapi.tasks.models import Task
from tests.factories import LabelFactory, TaskFactory

pytestmark = pytest.mark.django_db


def _errors(response) -> list[tuple[str | None, str]]:
    return [(error["field"], error["code"]) for error in response.json()["errors"]]


def _ids(response) -> list[int]:
    return sorted(task["id"] for task in response.json()["results"])


@pytest.fixture
def labels(user):
    return [LabelFactory(owner=user) for _ in range(3)]


def test_create_with_labels_stores_each_once_and_answers_them_ascending(api_client, labels):
    first, second, _third = labels
    body = {"title": "t", "labels": [second.pk, first.pk, second.pk]}

    response = api_client.post("/tasks/", body, format="json")

    assert response.status_code == 201
    assert response.json()["labels"] == sorted([first.pk, second.pk])
    task_id = response.json()["id"]
    assert api_client.get(f"/tasks/{task_id}/").json()["labels"] == sorted([first.pk, second.pk])


def test_another_users_label_is_refused_exactly_like_a_missing_one(api_client, other_user):
    theirs = LabelFactory(owner=other_user)

    on_theirs = api_client.post("/tasks/", {"title": "t", "labels": [theirs.pk]}, format="json")
    on_missing = api_client.post(
        "/tasks/", {"title": "t", "labels": [theirs.pk + 1000]}, format="json"
    )

    assert on_theirs.status_code == on_missing.status_code == 400
    assert on_theirs.json() == on_missing.json()
    assert _errors(on_theirs) == [("labels", "does_not_exist")]
    assert not Task.objects.exists()
    assert not theirs.tasks.exists()


@pytest.mark.parametrize(
    "labels",
    [
        ["3"],
        [3.5],
        [1e300],
        [True],
        [0],
        [-1],
        [None],
        None,
        "3",
        {"id": 3},
        list(range(1, 22)),
    ],
)
def test_malformed_labels_are_a_400_on_labels(api_client, labels):
    response = api_client.post("/tasks/", {"title": "t", "labels": labels}, format="json")

    assert response.status_code == 400
    assert {field.split(".")[0] for field, _code in _errors(response)} == {"labels"}
    assert not Task.objects.exists()


def test_a_label_id_with_a_zero_fraction_is_that_integer_as_json_schema_says(api_client, labels):
    response = api_client.post(
        "/tasks/", {"title": "t", "labels": [float(labels[0].pk)]}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["labels"] == [labels[0].pk]


@pytest.mark.parametrize("label_id", [2**63, 10**30])
def test_a_label_id_beyond_int64_is_refused_like_a_missing_one(api_client, label_id):
    beyond = api_client.post("/tasks/", {"title": "t", "labels": [label_id]}, format="json")
    missing = api_client.post("/tasks/", {"title": "t", "labels": [12345]}, format="json")

    assert beyond.status_code == 400
    assert beyond.json() == missing.json()


def test_a_label_filter_beyond_int64_matches_nothing(api_client, user):
    TaskFactory(owner=user)

    response = api_client.get(f"/tasks/?label={2**63}")

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_put_without_labels_removes_them_and_patch_sets_exactly_the_ones_sent(
    api_client, user, labels
):
    first, second, third = labels
    task_id = api_client.post(
        "/tasks/", {"title": "t", "labels": [first.pk, second.pk]}, format="json"
    ).json()["id"]

    patched = api_client.patch(
        f"/tasks/{task_id}/", {"labels": [second.pk, third.pk]}, format="json"
    )
    retitled = api_client.patch(f"/tasks/{task_id}/", {"title": "u"}, format="json")
    replaced = api_client.put(f"/tasks/{task_id}/", {"title": "v"}, format="json")

    assert patched.json()["labels"] == sorted([second.pk, third.pk])
    assert retitled.json()["labels"] == sorted([second.pk, third.pk])
    assert replaced.json()["labels"] == []
    assert api_client.get(f"/tasks/{task_id}/").json()["labels"] == []
    assert replaced["ETag"] == '"4"'


def test_a_refused_label_on_update_changes_nothing(api_client, user, labels, other_user):
    task = TaskFactory(owner=user, title="before")
    theirs = LabelFactory(owner=other_user)

    response = api_client.patch(
        f"/tasks/{task.pk}/", {"title": "after", "labels": [labels[0].pk, theirs.pk]}, format="json"
    )

    assert response.status_code == 400
    task.refresh_from_db()
    assert (task.title, task.version) == ("before", 1)
    assert not task.label_links.exists()


def test_the_label_filter_keeps_tasks_that_carry_every_label_given(api_client, user, labels):
    first, second, _third = labels
    both = TaskFactory(owner=user)
    only_first = TaskFactory(owner=user)
    TaskFactory(owner=user)
    for task, carried in ((both, [first, second]), (only_first, [first])):
        task.labels.set(carried)

    by_first = api_client.get("/tasks/", {"label": first.pk})
    by_both = api_client.get(f"/tasks/?label={first.pk}&label={second.pk}")

    assert _ids(by_first) == sorted([both.pk, only_first.pk])
    assert _ids(by_both) == [both.pk]


def test_the_label_filter_pages_by_cursor_without_skipping_or_repeating(api_client, user, labels):
    label = labels[0]
    tagged = TaskFactory.create_batch(7, owner=user)
    TaskFactory.create_batch(5, owner=user)
    for task in tagged:
        task.labels.add(label)

    seen, url = [], f"/tasks/?label={label.pk}&page_size=2&ordering=created_at"
    while url:
        page = api_client.get(url).json()
        seen += [task["id"] for task in page["results"]]
        url = page["next"]

    assert seen == [task.pk for task in tagged]


def test_another_users_label_in_the_filter_matches_nothing(api_client, user, other_user):
    theirs = LabelFactory(owner=other_user)
    TaskFactory(owner=other_user).labels.add(theirs)
    TaskFactory(owner=user)

    response = api_client.get("/tasks/", {"label": theirs.pk})

    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    "query",
    [
        "label=",
        "label=x",
        "label=0",
        "label=-3",
        "label=1.5",
        f"label={10**40}",
        "label=1&label=",
        "&".join(f"label={i}" for i in range(1, 12)),
    ],
)
def test_a_bad_label_filter_is_a_400_on_label(api_client, query):
    response = api_client.get(f"/tasks/?{query}")

    assert response.status_code == 400
    assert [field for field, _code in _errors(response)] == ["label"]


def test_deleting_a_label_takes_it_off_its_tasks_with_new_versions_and_feed_entries(
    api_client, user, labels
):
    label, kept, _ = labels
    live = api_client.post("/tasks/", {"title": "a", "labels": [label.pk, kept.pk]}, format="json")
    trashed = api_client.post("/tasks/", {"title": "b", "labels": [label.pk]}, format="json")
    untouched = api_client.post("/tasks/", {"title": "c", "labels": [kept.pk]}, format="json")
    api_client.delete(f"/tasks/{trashed.json()['id']}/")
    token = api_client.get("/tasks/changes/").json()["sync_token"]

    assert api_client.delete(f"/labels/{label.pk}/").status_code == 204

    read = api_client.get(f"/tasks/{live.json()['id']}/")
    assert read.json()["labels"] == [kept.pk]
    assert read["ETag"] == '"2"'
    assert read.json()["updated_at"] > live.json()["updated_at"]
    assert Task.objects.get(pk=trashed.json()["id"]).version == 2
    assert api_client.get(f"/tasks/{untouched.json()['id']}/")["ETag"] == '"1"'
    changes = api_client.get("/tasks/changes/", {"sync_token": token}).json()
    assert [task["id"] for task in changes["tasks"]] == [live.json()["id"]]
    assert changes["deleted"] == []
    assert not Label.objects.filter(pk=label.pk).exists()


def test_renaming_a_label_changes_no_task(api_client, user, labels):
    task = api_client.post("/tasks/", {"title": "a", "labels": [labels[0].pk]}, format="json")

    api_client.patch(f"/labels/{labels[0].pk}/", {"name": "renamed"}, format="json")

    assert api_client.get(f"/tasks/{task.json()['id']}/")["ETag"] == '"1"'


def test_labels_survive_the_trash_and_come_back_on_restore(api_client, user, labels):
    task_id = api_client.post(
        "/tasks/", {"title": "a", "labels": [labels[1].pk]}, format="json"
    ).json()["id"]

    api_client.delete(f"/tasks/{task_id}/")
    in_trash = api_client.get("/tasks/trash/").json()["results"]
    restored = api_client.post(f"/tasks/{task_id}/restore/")

    assert [task["labels"] for task in in_trash] == [[labels[1].pk]]
    assert restored.json()["labels"] == [labels[1].pk]


def test_a_restore_in_a_shared_project_answers_only_the_callers_labels(
    api_client, user, other_user
):
    # Labels are personal: a member restoring a task sees their own labels on it, not the
    # labels another member put on it (as GET, PATCH and the trash list show it).
    project = Project.objects.create(owner=other_user, name="shared")
    Membership.objects.create(project=project, user=other_user, role=Role.OWNER)
    Membership.objects.create(project=project, user=user, role=Role.EDITOR)
    task = TaskFactory(owner=other_user, project=project)
    task.labels.add(LabelFactory(owner=other_user))
    assert api_client.delete(f"/tasks/{task.pk}/").status_code == 204
    in_trash = api_client.get("/tasks/trash/").json()["results"]

    restored = api_client.post(f"/tasks/{task.pk}/restore/")

    assert restored.status_code == 200
    assert [t["labels"] for t in in_trash] == [[]]
    assert restored.json()["labels"] == []


def test_erasing_a_task_removes_its_label_links_and_keeps_the_label(api_client, user, labels):
    task_id = api_client.post(
        "/tasks/", {"title": "a", "labels": [labels[0].pk]}, format="json"
    ).json()["id"]
    api_client.delete(f"/tasks/{task_id}/")

    assert api_client.delete(f"/tasks/trash/{task_id}/").status_code == 204

    assert not labels[0].tasks.exists()
    assert api_client.get(f"/labels/{labels[0].pk}/").status_code == 200
