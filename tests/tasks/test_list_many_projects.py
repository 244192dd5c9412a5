"""GET /tasks/ and GET /tasks/trash/ for a member of several projects.

On PostgreSQL such a page is read project by project and merged (selectors.task_page_slice):
each project's first rows by its own index range, rather than every task of the projects
sorted. These tests walk every page, both ways, in every ordering and under the filters, and
hold the answers to the order computed here from all the member's tasks: whatever way the page
is read, the same rows in the same order. On SQLite the plain form answers the same tests.
"""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from taskapi.projects.models import Role
from taskapi.projects.services import invitation_accept, invitation_create, project_create
from taskapi.tasks import selectors
from taskapi.tasks.filters import ORDERINGS
from taskapi.tasks.models import Task, TaskLabel
from tests.factories import LabelFactory, TaskFactory, UserFactory, inbox_of
from tests.support.pages import walk_pages

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 1, tzinfo=UTC)
D0 = date(2026, 3, 1)
PAGE_SIZE = 4


def _join(owner, project_id: int, member, role: str) -> None:
    invitation = invitation_create(user=owner, project_id=project_id, email=member.email, role=role)
    invitation_accept(user=member, email=member.email, invitation_id=invitation.pk)


@pytest.fixture
def projects(user):
    """The user's Inbox and three projects of others (editor of two, viewer of one), each with
    tasks whose keys interleave and tie across projects; a few in the trash; the user's label
    on some; some assigned to the user; a few subtasks. Returns the project ids."""
    inbox = inbox_of(user)
    shared = []
    for index, role in enumerate((Role.EDITOR, Role.EDITOR, Role.VIEWER)):
        owner = UserFactory()
        project = project_create(user=owner, data={"name": f"Shared {index}"})
        _join(owner, project.pk, user, role)
        shared.append((project, owner))
    label = LabelFactory(owner=user)
    others_label = LabelFactory()
    all_projects = [(inbox, user), *shared]
    for i in range(36):
        project, creator = all_projects[i % 4]
        task = TaskFactory(
            project=project,
            owner=creator,
            title=f"{'alpha' if i % 3 == 0 else 'beta'} {i}",
            # Few distinct values: ties within and across projects, broken by id.
            created_at=T0 + timedelta(minutes=(i * 7) % 5),
            updated_at=T0 + timedelta(minutes=(i * 5) % 3),
            due_date=None if i % 4 == 1 else D0 + timedelta(days=(i * 3) % 4),
            completed=i % 3 == 1,
            completed_at=T0 if i % 3 == 1 else None,
            priority=("low", "medium", "high")[i % 3],
            assignee=user if i % 5 == 0 else None,
        )
        if i % 2 == 0:
            TaskLabel.objects.create(task=task, label=label)
        if i % 3 == 2:
            TaskLabel.objects.create(task=task, label=others_label)
        if i % 9 == 4:
            TaskFactory(project=project, owner=creator, parent=task, title=f"sub {i}")
    # Top-level tasks without subtasks (a trashed task's subtasks go with it).
    leaves = Task.objects.filter(parent=None, children=None).order_by("pk")
    for n, task_id in enumerate(list(leaves.values_list("pk", flat=True))[1::3]):
        Task.objects.filter(pk=task_id).update(deleted_at=T0 + timedelta(hours=n % 2))
    return {
        "all": [inbox.pk, *(project.pk for project, _owner in shared)],
        "label": label.pk,
        "viewer_of": shared[2][0].pk,
        "second": shared[1][0].pk,
    }


def _key(task: Task, ordering: str) -> tuple:
    """The order GET /tasks/ promises: the key, then id, the same way; due dates by the day,
    undated last ascending (and so, reversed, first descending)."""
    name = ordering.lstrip("-")
    if name == "due_date":
        return (task.due_day is None, task.due_day or D0, task.pk)
    return (getattr(task, name), task.pk)


def _expected(projects: list[int], ordering: str, keep=lambda task: True) -> list[int]:
    tasks = [
        task
        for task in Task.objects.filter(project_id__in=projects, deleted_at__isnull=True)
        if keep(task)
    ]
    tasks.sort(key=lambda task: _key(task, ordering), reverse=ordering.startswith("-"))
    return [task.pk for task in tasks]


def _walk_both_ways(api, url: str) -> tuple[list[int], list[int]]:
    """Every id walking `next` from the first page, and every id walking `previous` back from
    the last page (in list order)."""
    forward = walk_pages(api, url)
    last = url
    while True:
        following = api.get(last).json()["next"]
        if following is None:
            break
        last = following
    backward = walk_pages(api, last, link="previous")
    return (
        [task_id for page in forward for task_id in page],
        [task_id for page in reversed(backward) for task_id in page],
    )


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_every_page_both_ways_is_the_merged_order_of_all_projects(
    api_client, user, projects, ordering
):
    expected = _expected(projects["all"], ordering)

    forward, backward = _walk_both_ways(
        api_client, f"/tasks/?ordering={ordering}&page_size={PAGE_SIZE}"
    )

    assert forward == expected
    assert backward == expected


def _label_of(projects):
    label = projects["label"]
    return lambda task: task.label_links.filter(label_id=label).exists()


FILTERS = {
    "completed=false": lambda projects: lambda task: not task.completed,
    "priority=high": lambda projects: lambda task: task.priority == "high",
    "due_before=2026-03-02": lambda projects: (
        lambda task: task.due_day is not None and task.due_day <= date(2026, 3, 2)
    ),
    "search=alpha": lambda projects: lambda task: "alpha" in task.title,
    "label={label}": _label_of,
    "top_level=true": lambda projects: lambda task: task.parent_id is None,
    "top_level=false": lambda projects: lambda task: task.parent_id is not None,
    "assignee=me": lambda projects: lambda task: task.assignee_id is not None,
    # One of the projects: the others' per-project ranges are empty.
    "project_id={second}": lambda projects: lambda task: task.project_id == projects["second"],
}


@pytest.mark.parametrize("ordering", ["-created_at", "due_date", "-due_date", "position"])
@pytest.mark.parametrize("query", list(FILTERS))
def test_filtered_pages_are_the_merged_order_of_the_matching_tasks(
    api_client, user, projects, ordering, query
):
    expected = _expected(projects["all"], ordering, FILTERS[query](projects))
    params = query.format(**projects)

    forward, backward = _walk_both_ways(
        api_client, f"/tasks/?{params}&ordering={ordering}&page_size={PAGE_SIZE}"
    )

    assert expected, "the filter matches some tasks"
    assert forward == expected
    assert backward == expected


def test_a_page_of_several_projects_carries_the_readers_labels_only(api_client, user, projects):
    body = api_client.get("/tasks/?page_size=100").json()

    labels = {label for task in body["results"] for label in task["labels"]}
    assert labels == {projects["label"]}
    assert {task["project_id"] for task in body["results"]} == set(projects["all"])


@pytest.mark.parametrize("query", ["label=9223372036854775808", "assignee=9223372036854775808"])
def test_a_page_of_several_projects_whose_filter_matches_nothing_is_empty(
    api_client, user, projects, query
):
    """A filter that can match nothing (an id past the largest, found by Schemathesis on
    PostgreSQL as a 500) gives the empty page, on the several-project form too."""
    response = api_client.get(f"/tasks/?{query}&page_size={PAGE_SIZE}")

    assert response.status_code == 200, response.content
    assert response.json()["results"] == []


def test_the_trash_of_several_projects_leaves_out_those_the_user_only_views(
    api_client, user, projects
):
    readable = [pk for pk in projects["all"] if pk != projects["viewer_of"]]
    trashed = Task.objects.filter(project_id__in=readable, deleted_at__isnull=False)
    expected = [
        task.pk for task in sorted(trashed, key=lambda t: (t.deleted_at, t.pk), reverse=True)
    ]

    forward, backward = _walk_both_ways(api_client, f"/tasks/trash/?page_size={PAGE_SIZE}")

    assert len({*readable}) == 3 and len(expected) > PAGE_SIZE
    assert forward == expected
    assert backward == expected


def _page_statements(api_client, url: str) -> list[str]:
    api_client.get(url)  # the token version cached, as under load
    with CaptureQueriesContext(connection) as captured:
        response = api_client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_a_page_of_several_projects_is_two_statements(api_client, user, projects):
    statements = _page_statements(api_client, f"/tasks/?page_size={PAGE_SIZE}")

    assert len(statements) == 2  # the user's projects, then the page


def test_a_page_of_several_projects_reads_each_projects_range_on_postgresql(
    api_client, user, projects
):
    page = _page_statements(api_client, f"/tasks/?page_size={PAGE_SIZE}")[-1]

    if connection.vendor == "postgresql":
        # Each project's first rows by a LATERAL subquery per project id, then the page.
        assert page.startswith("SELECT page.* FROM unnest(")
        assert "CROSS JOIN LATERAL" in page
        assert page.count(f"LIMIT {PAGE_SIZE + 1}") == 2
    else:
        # SQLite (tests, local runs) reads the projects together, in the plain form.
        assert "LATERAL" not in page
        assert page.count(f"LIMIT {PAGE_SIZE + 1}") == 1


# On SQLite the pages come from the plain form, which must give the same pages too.
@pytest.mark.parametrize("ordering", ["-created_at", "due_date"])
def test_the_queryset_form_of_the_union_gives_the_same_pages(
    api_client, user, projects, ordering, monkeypatch
):
    # The form task_page_slice falls back to when a compiled page is not as it expects.
    monkeypatch.setattr(selectors, "_POSITIONS", re.compile("(?!)"))
    expected = _expected(projects["all"], ordering)

    forward, backward = _walk_both_ways(
        api_client, f"/tasks/?ordering={ordering}&page_size={PAGE_SIZE}"
    )
    page = _page_statements(api_client, f"/tasks/?ordering={ordering}&page_size={PAGE_SIZE}")[-1]

    assert forward == expected
    assert backward == expected
    if connection.vendor == "postgresql":
        assert '"tasks_task"."id" IN (SELECT page.pk' in page
    else:  # SQLite has no fallback to take: the plain form
        assert "page.pk" not in page


def test_a_page_of_one_project_is_read_as_one_range(api_client, user):
    TaskFactory.create_batch(3, owner=user)

    page = _page_statements(api_client, f"/tasks/?page_size={PAGE_SIZE}")[-1]

    assert "unnest(" not in page
    assert f'"project_id" = {inbox_of(user).pk}' in page
