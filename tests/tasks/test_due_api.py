"""Due times over HTTP: status codes, the problem naming the field, filters and pages."""

import base64
import json
from datetime import date, datetime
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from taskapi.tasks.due import zone_info
from taskapi.tasks.models import Task
from tests.factories import TaskFactory, UserFactory
from tests.support.pages import page_ids as _ids
from tests.support.pages import walk_pages as _walk

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def _errors(response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.json()
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "/problems/validation-error"
    return [(error["field"], error["code"]) for error in response.json()["errors"]]


def _create(api, **fields):
    response = api.post("/tasks/", {"title": "t", **fields}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


# --- create, read, write ----------------------------------------------------------------------


def test_a_timed_task_is_created_and_returned_in_utc_with_its_zone(api_client):
    body = _create(api_client, due_at="2026-12-31T23:30:00-05:00", time_zone="America/New_York")

    assert (body["due_date"], body["due_at"], body["time_zone"]) == (
        None,
        "2027-01-01T04:30:00Z",
        "America/New_York",
    )
    assert api_client.get(f"/tasks/{body['id']}/").json() == body


def test_due_at_keeps_its_microseconds_and_lower_case_separators_are_read(api_client):
    body = _create(api_client, due_at="2026-07-01t00:00:00.000001+14:00")

    assert (body["due_at"], body["time_zone"]) == ("2026-06-30T10:00:00.000001Z", "UTC")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"due_at": "2026-12-01T09:00:00"}, ("due_at", "invalid")),  # no offset
        ({"due_at": "2026-12-01"}, ("due_at", "invalid")),
        ({"due_at": "tomorrow"}, ("due_at", "invalid")),
        ({"due_at": "2026-13-01T09:00:00Z"}, ("due_at", "invalid")),
        ({"due_at": "2026-12-01T09:00:60Z"}, ("due_at", "invalid")),
        ({"due_at": "2026-12-01T09:00:00+24:00"}, ("due_at", "invalid")),
        ({"due_at": "0000-01-01T00:00:00Z"}, ("due_at", "invalid")),
        ({"due_at": "10000-01-01T00:00:00Z"}, ("due_at", "invalid")),
        ({"due_at": "+002026-12-01T09:00:00Z"}, ("due_at", "invalid")),
        ({"due_at": "0001-01-01T00:00:00+00:01"}, ("due_at", "out_of_range")),
        ({"due_at": "9999-12-31T23:59:59-00:01"}, ("due_at", "out_of_range")),
        ({"due_at": 1764579600}, ("due_at", "invalid")),
        ({"due_at": True}, ("due_at", "invalid")),
        ({"due_at": ["2026-12-01T09:00:00Z"]}, ("due_at", "invalid")),
        ({"due_at": {"at": "2026-12-01T09:00:00Z"}}, ("due_at", "invalid")),
        ({"due_at": "2026-12-01T09:00:00Z\x00"}, ("due_at", "invalid")),
        ({"due_at": "٢٠٢٦-12-01T09:00:00Z"}, ("due_at", "invalid")),  # Arabic-Indic digits
        (
            {"due_at": "9999-12-31T20:00:00Z", "time_zone": "Pacific/Kiritimati"},
            ("due_at", "out_of_range"),
        ),
        (
            {"due_at": "2026-12-01T09:00:00Z", "time_zone": "Mars/Olympus"},
            ("time_zone", "unknown_zone"),
        ),
        (
            {"due_at": "2026-12-01T09:00:00Z", "time_zone": "europe/paris"},
            ("time_zone", "unknown_zone"),
        ),
        ({"due_at": "2026-12-01T09:00:00Z", "time_zone": " UTC"}, ("time_zone", "unknown_zone")),
        (
            {"due_at": "2026-12-01T09:00:00Z", "time_zone": "localtime"},
            ("time_zone", "unknown_zone"),
        ),
        ({"due_at": "2026-12-01T09:00:00Z", "time_zone": "A" * 65}, ("time_zone", "max_length")),
        (
            {"due_at": "2026-12-01T09:00:00Z", "time_zone": "UTC\x00"},
            ("time_zone", "null_characters_not_allowed"),
        ),
        ({"due_at": "2026-12-01T09:00:00Z", "time_zone": ""}, ("time_zone", "blank")),
        ({"due_at": "2026-12-01T09:00:00Z", "time_zone": 1}, ("time_zone", "invalid")),
        ({"due_at": "2026-12-01T09:00:00Z", "time_zone": ["UTC"]}, ("time_zone", "invalid")),
        ({"time_zone": "Europe/Paris"}, ("time_zone", "without_due_at")),
        ({"due_at": None, "time_zone": "Europe/Paris"}, ("time_zone", "without_due_at")),
        (
            {"due_date": "2026-12-01", "due_at": "2026-12-01T09:00:00Z"},
            ("due_at", "conflict"),
        ),
    ],
)
def test_bad_due_fields_on_create_are_a_400_naming_the_field(api_client, fields, error):
    response = api_client.post("/tasks/", {"title": "t", **fields}, format="json")

    assert _errors(response) == [error]
    assert not Task.objects.exists()


def test_a_null_zone_with_due_at_on_create_is_utc(api_client):
    body = _create(api_client, due_at="2026-12-01T09:00:00+01:00", time_zone=None)

    assert (body["due_at"], body["time_zone"]) == ("2026-12-01T08:00:00Z", "UTC")


def test_patching_due_at_onto_an_all_day_task_is_a_400_on_due_at(api_client, user):
    task = TaskFactory(owner=user, due_date=date(2026, 12, 1))

    response = api_client.patch(
        f"/tasks/{task.pk}/", {"due_at": "2026-12-01T09:00:00Z"}, format="json"
    )

    assert _errors(response) == [("due_at", "conflict")]
    task.refresh_from_db()
    assert (task.due_date, task.due_at, task.version) == (date(2026, 12, 1), None, 1)


def test_patching_due_at_with_a_null_due_date_makes_the_task_timed(api_client, user):
    task = TaskFactory(owner=user, due_date=date(2026, 12, 1))

    response = api_client.patch(
        f"/tasks/{task.pk}/",
        {"due_date": None, "due_at": "2026-12-01T09:00:00Z"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["due_date"], body["due_at"], body["time_zone"]) == (
        None,
        "2026-12-01T09:00:00Z",
        "UTC",
    )


def test_patching_due_at_keeps_the_zone_and_null_clears_both(api_client, user):
    body = _create(api_client, due_at="2026-12-01T09:00:00Z", time_zone="Pacific/Pago_Pago")
    url = f"/tasks/{body['id']}/"

    kept = api_client.patch(url, {"due_at": "2026-12-02T09:00:00Z"}, format="json").json()
    cleared = api_client.patch(url, {"due_at": None}, format="json").json()

    assert (kept["due_at"], kept["time_zone"]) == ("2026-12-02T09:00:00Z", "Pacific/Pago_Pago")
    assert (cleared["due_at"], cleared["time_zone"]) == (None, None)


def test_patching_only_the_zone_changes_the_etag_and_the_day_the_task_is_due(api_client):
    body = _create(api_client, due_at="2026-12-31T23:30:00-05:00", time_zone="America/New_York")
    url = f"/tasks/{body['id']}/"
    etag = api_client.get(url)["ETag"]
    assert _ids(api_client.get("/tasks/?due_before=2026-12-31")) == [body["id"]]

    response = api_client.patch(
        url, {"time_zone": "Europe/Paris"}, format="json", HTTP_IF_MATCH=etag
    )

    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response.json()["due_at"] == body["due_at"]
    assert _ids(api_client.get("/tasks/?due_before=2026-12-31")) == []
    assert _ids(api_client.get("/tasks/?due_after=2027-01-01")) == [body["id"]]


def test_put_without_due_fields_resets_both(api_client):
    body = _create(api_client, due_at="2026-12-01T09:00:00Z", time_zone="Asia/Kathmandu")

    response = api_client.put(f"/tasks/{body['id']}/", {"title": "again"}, format="json")

    assert response.status_code == 200
    assert (response.json()["due_at"], response.json()["time_zone"]) == (None, None)
    assert Task.objects.get().due_day is None


def test_put_with_due_at_and_no_zone_is_utc_whatever_the_zone_before(api_client):
    body = _create(api_client, due_at="2026-12-01T09:00:00Z", time_zone="Asia/Kathmandu")

    response = api_client.put(
        f"/tasks/{body['id']}/",
        {"title": "again", "due_at": "2026-12-01T23:30:00Z"},
        format="json",
    )

    assert (response.json()["time_zone"], Task.objects.get().due_day) == ("UTC", date(2026, 12, 1))


def test_put_with_both_due_date_and_due_at_is_a_400_on_due_at(api_client, user):
    task = TaskFactory(owner=user)

    response = api_client.put(
        f"/tasks/{task.pk}/",
        {"title": "t", "due_date": "2026-12-01", "due_at": "2026-12-01T09:00:00Z"},
        format="json",
    )

    assert _errors(response) == [("due_at", "conflict")]


def test_patching_a_zone_onto_an_all_day_task_is_a_400_on_time_zone(api_client, user):
    task = TaskFactory(owner=user, due_date=date(2026, 12, 1))

    response = api_client.patch(f"/tasks/{task.pk}/", {"time_zone": "UTC"}, format="json")

    assert _errors(response) == [("time_zone", "without_due_at")]


def test_another_users_timed_task_is_not_found_and_unchanged(api_client, other_user):
    task = TaskFactory(
        owner=other_user,
        due_at=datetime.fromisoformat("2026-12-01T09:00:00+00:00"),
        time_zone="UTC",
    )

    response = api_client.patch(f"/tasks/{task.pk}/", {"time_zone": "Europe/Paris"}, format="json")

    assert response.status_code == 404
    task.refresh_from_db()
    assert (task.time_zone, task.version) == ("UTC", 1)


# --- filters and the due_date ordering use the local day --------------------------------------


def test_due_filters_read_a_timed_task_on_its_local_date_not_its_utc_date(api_client):
    # 2027-01-01T04:30Z: still 2026-12-31 in New York.
    body = _create(api_client, due_at="2026-12-31T23:30:00-05:00", time_zone="America/New_York")

    def ids(query):
        return _ids(api_client.get(f"/tasks/?{query}"))

    assert ids("due_before=2026-12-31") == [body["id"]]
    assert ids("due_after=2026-12-31&due_before=2026-12-31") == [body["id"]]
    assert ids("due_after=2027-01-01") == []


@pytest.mark.parametrize(
    ("due_at", "zone", "day"),
    [
        ("2026-06-30T10:30:00Z", "Pacific/Kiritimati", "2026-07-01"),
        ("2026-07-01T10:30:00Z", "Pacific/Pago_Pago", "2026-06-30"),
        ("2026-06-30T18:15:00Z", "Asia/Kathmandu", "2026-07-01"),
        ("2026-11-01T05:30:00Z", "America/New_York", "2026-11-01"),  # first 01:30 (EDT)
        ("2026-11-01T06:30:00Z", "America/New_York", "2026-11-01"),  # repeated 01:30 (EST)
        ("2026-03-09T04:30:00Z", "America/New_York", "2026-03-09"),  # after the skipped hour
        ("2026-10-25T23:30:00Z", "Europe/London", "2026-10-25"),
    ],
)
def test_a_timed_task_matches_exactly_its_local_day(api_client, due_at, zone, day):
    body = _create(api_client, due_at=due_at, time_zone=zone)
    previous = date.fromordinal(date.fromisoformat(day).toordinal() - 1).isoformat()
    following = date.fromordinal(date.fromisoformat(day).toordinal() + 1).isoformat()

    assert _ids(api_client.get(f"/tasks/?due_after={day}&due_before={day}")) == [body["id"]]
    assert _ids(api_client.get(f"/tasks/?due_before={previous}")) == []
    assert _ids(api_client.get(f"/tasks/?due_after={following}")) == []


def test_all_day_and_timed_tasks_walk_together_by_day_across_pages(api_client, user):
    ids = {}
    for name, fields in {
        "undated": {},
        "dec31_all_day": {"due_date": "2026-12-31"},
        "dec31_new_york": {"due_at": "2026-12-31T23:30:00-05:00", "time_zone": "America/New_York"},
        "jan1_kiritimati": {"due_at": "2026-12-31T10:00:00Z", "time_zone": "Pacific/Kiritimati"},
        "dec30_pago_pago": {"due_at": "2026-12-31T10:00:00Z", "time_zone": "Pacific/Pago_Pago"},
        "jan1_all_day": {"due_date": "2027-01-01"},
        "dec31_utc": {"due_at": "2026-12-31T00:00:00Z"},
        "undated_too": {},
    }.items():
        ids[name] = _create(api_client, **fields)["id"]
    by_day = [
        ids["dec30_pago_pago"],
        *sorted([ids["dec31_all_day"], ids["dec31_new_york"], ids["dec31_utc"]]),
        *sorted([ids["jan1_kiritimati"], ids["jan1_all_day"]]),
        *sorted([ids["undated"], ids["undated_too"]]),
    ]

    ascending = _walk(api_client, "/tasks/?ordering=due_date&page_size=2")
    descending = _walk(api_client, "/tasks/?ordering=-due_date&page_size=3")

    assert [task_id for page in ascending for task_id in page] == by_day
    assert [task_id for page in descending for task_id in page] == by_day[::-1]


def test_a_due_date_cursor_issued_before_due_times_still_pages_on(api_client, user):
    tasks = [TaskFactory(owner=user, due_date=date(2026, 1, day)) for day in (1, 2, 2, 3)]
    # The shape of a next link's cursor before due times: [ordering, due date, id].
    position = json.dumps(["due_date", "2026-01-02", tasks[1].pk], separators=(",", ":"))
    cursor = base64.b64encode(urlencode({"p": position}).encode()).decode()

    response = api_client.get(f"/tasks/?ordering=due_date&page_size=10&cursor={cursor}")

    assert response.status_code == 200
    assert _ids(response) == [tasks[2].pk, tasks[3].pk]


# --- property: mixed all-day and timed tasks page by their local day --------------------------

ZONES = ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu", "America/New_York"]
# Instants around the turn of the year, where the local day differs from zone to zone.
instants = st.sampled_from(
    [datetime.fromisoformat(f"2026-12-31T{hour:02d}:30:00+00:00") for hour in (0, 9, 10, 11, 23)]
)
due_rows = st.one_of(
    st.just({}),
    st.sampled_from([date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 1)]).map(
        lambda day: {"due_date": day}
    ),
    st.builds(lambda at, zone: {"due_at": at, "time_zone": zone}, instants, st.sampled_from(ZONES)),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(due_rows, max_size=10),
    ordering=st.sampled_from(["due_date", "-due_date"]),
    page_size=st.integers(min_value=1, max_value=3),
    bounds=st.fixed_dictionaries(
        {},
        optional={
            "due_before": st.sampled_from(["2026-12-30", "2026-12-31"]),
            "due_after": st.sampled_from(["2026-12-31", "2027-01-01"]),
        },
    ),
)
def test_walking_mixed_tasks_by_due_date_yields_each_matching_task_once_in_day_order(
    db, rows, ordering, page_size, bounds
):
    owner = UserFactory()
    tasks = [TaskFactory(owner=owner, **row) for row in rows]
    api = APIClient()
    api.force_authenticate(user=owner)

    def day(task: Task) -> date | None:
        if task.due_at is not None:
            return task.due_at.astimezone(zone_info(task.time_zone)).date()
        return task.due_date

    def matches(task: Task) -> bool:
        if bounds and day(task) is None:
            return False
        if "due_before" in bounds and day(task) > date.fromisoformat(bounds["due_before"]):
            return False
        return "due_after" not in bounds or day(task) >= date.fromisoformat(bounds["due_after"])

    chosen = [task for task in tasks if matches(task)]
    chosen.sort(key=lambda task: (day(task) is None, day(task) or date.min, task.pk))
    expected = [task.pk for task in chosen]
    if ordering.startswith("-"):
        expected.reverse()
    query = urlencode({"ordering": ordering, "page_size": page_size, **bounds})

    forward = _walk(api, f"/tasks/?{query}")

    assert [task_id for page in forward for task_id in page] == expected
