"""GET /tasks/: filters, ordering, keyset pages and their validation."""

import base64
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from taskapi.tasks.models import Task
from tests.factories import TaskFactory, UserFactory, inbox_of
from tests.support.pages import page_ids as _ids
from tests.support.pages import walk_pages as _pages

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _walk(api, url: str) -> list[int]:
    return [task_id for page in _pages(api, url) for task_id in page]


def _last_page_url(api, url: str) -> str:
    while True:
        response = api.get(url)
        following = response.json()["next"]
        if following is None:
            return url
        url = following


def test_list_is_newest_first_by_default(api_client, user):
    older = TaskFactory(owner=user, created_at=T0)
    newer = TaskFactory(owner=user, created_at=T0 + timedelta(seconds=1))

    response = api_client.get("/tasks/")

    assert response.status_code == 200
    assert _ids(response) == [newer.pk, older.pk]
    assert response.json()["next"] is None
    assert response.json()["previous"] is None


def test_default_page_size_is_20(api_client, user):
    TaskFactory.create_batch(21, owner=user)

    response = api_client.get("/tasks/")

    assert len(response.json()["results"]) == 20
    assert response.json()["next"] is not None


def test_page_size_100_is_allowed(api_client, user):
    TaskFactory.create_batch(101, owner=user)

    response = api_client.get("/tasks/?page_size=100")

    assert len(response.json()["results"]) == 100


def test_ties_on_created_at_are_broken_by_id_in_the_same_direction(api_client, user):
    tasks = TaskFactory.create_batch(5, owner=user, created_at=T0)

    assert _walk(api_client, "/tasks/?page_size=2") == sorted(t.pk for t in tasks)[::-1]
    assert _walk(api_client, "/tasks/?page_size=2&ordering=created_at") == sorted(
        t.pk for t in tasks
    )


def test_more_than_a_thousand_ties_page_through(api_client, user):
    # DRF's stock cursor skips ties with an OFFSET capped at 1000 and breaks here.
    inbox = inbox_of(user)
    Task.objects.bulk_create(
        [
            Task(
                project=inbox,
                created_by=user,
                title=f"t{i}",
                created_at=T0,
                updated_at=T0,
                position=i,
            )
            for i in range(1100)
        ]
    )

    ids = _walk(api_client, "/tasks/?page_size=100")

    assert len(ids) == len(set(ids)) == 1100


def test_due_date_nulls_come_last_ascending_and_first_descending(api_client, user):
    none = TaskFactory(owner=user, due_date=None)
    early = TaskFactory(owner=user, due_date=date(2026, 1, 1))
    late = TaskFactory(owner=user, due_date=date(2026, 2, 1))

    ascending = _walk(api_client, "/tasks/?ordering=due_date&page_size=1")
    descending = _walk(api_client, "/tasks/?ordering=-due_date&page_size=1")

    assert ascending == [early.pk, late.pk, none.pk]
    assert descending == [none.pk, late.pk, early.pk]


def test_filters_combine(api_client, user):
    match = TaskFactory(
        owner=user,
        completed=True,
        completed_at=T0,
        priority="high",
        due_date=date(2026, 5, 5),
        title="Bernoulli numbers",
    )
    TaskFactory(owner=user, priority="high", due_date=date(2026, 5, 5), title="bernoulli")
    TaskFactory(
        owner=user,
        completed=True,
        completed_at=T0,
        priority="low",
        due_date=date(2026, 5, 5),
        title="bernoulli",
    )
    TaskFactory(
        owner=user,
        completed=True,
        completed_at=T0,
        priority="high",
        due_date=date(2026, 5, 6),
        title="bernoulli",
    )

    response = api_client.get(
        "/tasks/?completed=true&priority=high&due_after=2026-05-05&due_before=2026-05-05"
        "&search=BERNOULLI"
    )

    assert _ids(response) == [match.pk]


def test_search_looks_in_the_description_too(api_client, user):
    task = TaskFactory(owner=user, description="On the Analytical Engine")
    TaskFactory(owner=user)

    assert _ids(api_client.get("/tasks/?search=analytical")) == [task.pk]


def test_search_treats_like_wildcards_literally(api_client, user):
    task = TaskFactory(owner=user, title="100% done")
    TaskFactory(owner=user, title="1000 done")

    assert _ids(api_client.get("/tasks/?search=0%25")) == [task.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page_size=ten", "page_size"),
        ("page_size=-1", "page_size"),
        ("page_size=99999999999999999999", "page_size"),
        ("cursor=garbled", "cursor"),
        ("cursor=" + base64.b64encode(b"p=%5B1%5D").decode(), "cursor"),
        ("completed=yes", "completed"),
        ("priority=urgent", "priority"),
        ("due_before=2026-02-30", "due_before"),
        ("due_after=01/02/2026", "due_after"),
        ("ordering=title", "ordering"),
        ("ordering=id", "ordering"),
        ("search=" + "x" * 201, "search"),
        ("due_before=", "due_before"),
        ("completed=", "completed"),
        ("ordering=", "ordering"),
        ("page_size=", "page_size"),
        ("cursor=", "cursor"),
    ],
)
def test_invalid_query_parameter_is_a_400_naming_it(api_client, query, field):
    response = api_client.get(f"/tasks/?{query}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/validation-error"
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_cursor_of_another_ordering_is_refused(api_client, user):
    TaskFactory.create_batch(2, owner=user)
    next_url = api_client.get("/tasks/?page_size=1").json()["next"]

    response = api_client.get(next_url.replace("page_size=1", "page_size=1&ordering=due_date"))

    assert response.status_code == 400


def test_empty_search_matches_everything(api_client, user):
    TaskFactory(owner=user)

    assert len(_ids(api_client.get("/tasks/?search="))) == 1


def test_unknown_query_parameters_are_ignored(api_client, user):
    TaskFactory(owner=user)

    assert api_client.get("/tasks/?colour=red").status_code == 200


def test_insert_during_pagination_neither_skips_nor_repeats(api_client, user):
    tasks = [TaskFactory(owner=user, created_at=T0 + timedelta(seconds=i)) for i in range(6)]
    first = api_client.get("/tasks/?page_size=3")
    TaskFactory(owner=user, created_at=T0 + timedelta(seconds=99))  # newer: lands on page 1

    second = api_client.get(first.json()["next"])

    assert _ids(first) + _ids(second) == [t.pk for t in reversed(tasks)]


def test_two_users_lists_never_intersect(api_client, user):
    other = UserFactory()
    mine = {t.pk for t in TaskFactory.create_batch(7, owner=user)}
    theirs = {t.pk for t in TaskFactory.create_batch(5, owner=other)}
    other_client = APIClient()
    other_client.force_authenticate(user=other)

    seen_by_me = set(_walk(api_client, "/tasks/?page_size=3"))
    seen_by_them = set(_walk(other_client, "/tasks/?page_size=3"))

    assert seen_by_me == mine
    assert seen_by_them == theirs
    assert not seen_by_me & seen_by_them


# --- property: walking the pages yields exactly the matching tasks, in order ------------------

ORDERINGS = ["created_at", "-created_at", "due_date", "-due_date", "updated_at", "-updated_at"]
# Few distinct values, so ties and NULLs are common: they are where keyset pagination breaks.
instants = st.sampled_from([T0 + timedelta(microseconds=m) for m in (0, 1, 500_000, 10**6)])
days = st.one_of(st.none(), st.sampled_from([date(2026, 1, d) for d in (1, 2, 3)]))
texts = st.text(alphabet="abAB_%", max_size=4)

task_rows = st.fixed_dictionaries(
    {
        "title": st.text(alphabet="abAB_% ", min_size=1, max_size=6).filter(str.strip),
        "description": texts,
        "completed": st.booleans(),
        "priority": st.sampled_from(["low", "medium", "high"]),
        "due_date": days,
        "created_at": instants,
        "updated_at": instants,
    }
)
queries = st.fixed_dictionaries(
    {},
    optional={
        "completed": st.sampled_from(["true", "false"]),
        "priority": st.sampled_from(["low", "medium", "high"]),
        "due_before": st.sampled_from(["2026-01-01", "2026-01-02"]),
        "due_after": st.sampled_from(["2026-01-02", "2026-01-03"]),
        "search": texts.filter(bool),
        "ordering": st.sampled_from(ORDERINGS),
    },
)


def _expected(tasks: list[Task], query: dict[str, str]) -> list[int]:
    def matches(task: Task) -> bool:
        if "completed" in query and task.completed != (query["completed"] == "true"):
            return False
        if "priority" in query and task.priority != query["priority"]:
            return False
        if "due_before" in query and (
            task.due_date is None or task.due_date > date.fromisoformat(query["due_before"])
        ):
            return False
        if "due_after" in query and (
            task.due_date is None or task.due_date < date.fromisoformat(query["due_after"])
        ):
            return False
        if "search" in query:
            needle = query["search"].lower()
            return needle in task.title.lower() or needle in task.description.lower()
        return True

    ordering = query.get("ordering", "-created_at")
    field = ordering.lstrip("-")
    chosen = [t for t in tasks if matches(t)]
    # Ascending: values, then NULLs, ties by id; descending is exactly the reverse.
    chosen.sort(key=lambda t: (getattr(t, field) is None, getattr(t, field) or T0, t.pk))
    if ordering.startswith("-"):
        chosen.reverse()
    return [t.pk for t in chosen]


def _fresh_owner_with(rows: list[dict]) -> tuple[list[Task], APIClient]:
    """A new user owning `rows`, and a client logged in as them.

    A fresh user per hypothesis example: the examples share the test's transaction, not their
    tasks.
    """
    owner = UserFactory()
    inbox = inbox_of(owner)
    tasks = Task.objects.bulk_create(
        [
            Task(
                project=inbox,
                created_by=owner,
                completed_at=row["created_at"] if row["completed"] else None,
                due_day=row["due_date"],  # what the services derive for an all-day task
                position=index,
                **row,
            )
            for index, row in enumerate(rows)
        ]
    )
    api = APIClient()
    api.force_authenticate(user=owner)
    return tasks, api


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(task_rows, max_size=14),
    query=queries,
    page_size=st.integers(min_value=1, max_value=4),
)
def test_walking_the_pages_yields_exactly_the_matching_tasks_in_order(db, rows, query, page_size):
    tasks, api = _fresh_owner_with(rows)
    params = "&".join(f"{k}={v.replace('%', '%25')}" for k, v in query.items())
    url = f"/tasks/?page_size={page_size}&{params}"
    expected = _expected(tasks, query)

    forward = _walk(api, url)
    backward = _pages(api, _last_page_url(api, url), link="previous")

    assert forward == expected
    # Back from the last page via `previous`: the same tasks in the same order.
    assert [task_id for page in reversed(backward) for task_id in page] == expected


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(task_rows, max_size=10),
    ordering=st.sampled_from(ORDERINGS),
    page_size=st.integers(min_value=1, max_value=3),
)
def test_every_ordering_pages_through_ties_and_nulls_in_order(db, rows, ordering, page_size):
    tasks, api = _fresh_owner_with(rows)

    ids = _walk(api, f"/tasks/?page_size={page_size}&ordering={ordering}")

    assert ids == _expected(tasks, {"ordering": ordering})


@pytest.mark.parametrize(
    "params",
    [{}, {"page_size": "5"}, {"unknown": "x"}, {"cursor": "abc", "page_size": "2"}],
)
def test_without_filter_parameters_the_list_is_what_the_filters_would_give(db, params):
    from taskapi.tasks.filters import DEFAULT_ORDERING, TaskFilter, task_list_filtered

    owner = UserFactory()
    TaskFactory.create_batch(3, owner=owner)
    queryset = Task.objects.filter(created_by=owner)
    filters = TaskFilter(params, queryset=queryset)
    filters.user = owner

    tasks, ordering = task_list_filtered(params, queryset, user=owner)

    assert list(tasks) == list(filters.validated_queryset())
    assert ordering == filters.ordering_key == DEFAULT_ORDERING


@pytest.mark.parametrize("params", [{"completed": ""}, {"ordering": "x"}, {"priority": "no"}])
def test_any_filter_parameter_is_still_validated(db, params):
    from rest_framework.exceptions import ValidationError

    from taskapi.tasks.filters import task_list_filtered

    with pytest.raises(ValidationError) as raised:
        task_list_filtered(params, Task.objects.none(), user=UserFactory())

    assert set(raised.value.detail) == set(params)
