"""Due dates and due times: the rules of tasks/due.py, checked against the services."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from django.db import IntegrityError, transaction

from taskapi.core.errors import FieldsInvalid
from taskapi.sync.models import Change
from taskapi.tasks.due import ZONE_NAMES, due_resolve, zone_info
from taskapi.tasks.models import Task
from taskapi.tasks.services import task_create, task_update
from tests.factories import TaskFactory, inbox_of

pytestmark = pytest.mark.django_db


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _refused(call) -> tuple[str, str]:
    with pytest.raises(FieldsInvalid) as raised:
        call()
    (error,) = raised.value.extra["errors"]
    return error["field"], error["code"]


def _timed(user, at: str, zone: str) -> Task:
    return task_create(user=user, data={"title": "t", "due_at": _utc(at), "time_zone": zone})


# --- the day a timed task is due: its local date in its zone ----------------------------------


@pytest.mark.parametrize(
    ("due_at", "zone", "day"),
    [
        # +14:00, the earliest zone: its new day starts at 10:00 UTC the day before.
        ("2026-06-30T10:30:00Z", "Pacific/Kiritimati", date(2026, 7, 1)),
        ("2026-06-30T09:59:59Z", "Pacific/Kiritimati", date(2026, 6, 30)),
        # -11:00: still the day before until 11:00 UTC.
        ("2026-07-01T10:30:00Z", "Pacific/Pago_Pago", date(2026, 6, 30)),
        # +05:45, a quarter-hour offset: midnight local is 18:15 UTC.
        ("2026-06-30T18:15:00Z", "Asia/Kathmandu", date(2026, 7, 1)),
        ("2026-06-30T18:14:59Z", "Asia/Kathmandu", date(2026, 6, 30)),
        # New York springs forward on 2026-03-08 (02:00 EST -> 03:00 EDT): right after the
        # skipped hour, and late the next evening, the offset is -04:00, not -05:00.
        ("2026-03-08T07:00:00Z", "America/New_York", date(2026, 3, 8)),
        ("2026-03-09T04:30:00Z", "America/New_York", date(2026, 3, 9)),
        # ... and falls back on 2026-11-01 (02:00 EDT -> 01:00 EST): both 01:30s of the repeated
        # hour are on the 1st, and 23:30 that evening is -05:00 (still the 1st).
        ("2026-11-01T05:30:00Z", "America/New_York", date(2026, 11, 1)),
        ("2026-11-01T06:30:00Z", "America/New_York", date(2026, 11, 1)),
        ("2026-11-02T04:30:00Z", "America/New_York", date(2026, 11, 1)),
        # London: BST from 2026-03-29 (23:30 UTC is 00:30 the next day), GMT from 2026-10-25.
        ("2026-03-29T23:30:00Z", "Europe/London", date(2026, 3, 30)),
        ("2026-10-25T23:30:00Z", "Europe/London", date(2026, 10, 25)),
        # Year boundary: 2027-01-01 in UTC, still New Year's Eve in New York.
        ("2026-12-31T23:30:00-05:00", "America/New_York", date(2026, 12, 31)),
        ("2026-12-31T23:30:00Z", "UTC", date(2026, 12, 31)),
    ],
)
def test_a_timed_task_is_due_on_the_local_date_of_due_at_in_its_zone(user, due_at, zone, day):
    task = _timed(user, due_at, zone)

    task.refresh_from_db()
    assert task.due_day == day
    assert task.due_at == _utc(due_at)
    assert task.time_zone == zone


def test_an_all_day_task_is_due_on_its_due_date(user):
    task = task_create(user=user, data={"title": "t", "due_date": date(2026, 12, 1)})

    task.refresh_from_db()
    assert (task.due_day, task.due_at, task.time_zone) == (date(2026, 12, 1), None, None)


def test_a_task_without_a_due_date_or_time_has_no_due_day(user):
    task = task_create(user=user, data={"title": "t"})

    task.refresh_from_db()
    assert task.due_day is None


def test_zones_come_from_the_tzdata_package_not_the_machine():
    assert "localtime" not in ZONE_NAMES
    assert {"UTC", "Europe/Paris", "US/Eastern", "Asia/Kathmandu"} <= ZONE_NAMES
    assert zone_info("Asia/Kathmandu").utcoffset(datetime(2026, 1, 1)) == timedelta(
        hours=5, minutes=45
    )


# --- at most one of due_date and due_at ---------------------------------------------------------


def test_creating_a_task_with_both_due_date_and_due_at_is_refused_on_due_at(user):
    data = {"title": "t", "due_date": date(2026, 12, 1), "due_at": _utc("2026-12-01T09:00:00Z")}

    assert _refused(lambda: task_create(user=user, data=data)) == ("due_at", "conflict")
    assert not Task.objects.exists()


def test_patching_due_at_onto_a_task_with_a_due_date_is_refused_and_changes_nothing(user):
    task = TaskFactory(owner=user, due_date=date(2026, 12, 1))

    refused = _refused(
        lambda: task_update(user=user, task=task, changes={"due_at": _utc("2026-12-01T09:00Z")})
    )

    assert refused == ("due_at", "conflict")
    task.refresh_from_db()
    assert (task.due_date, task.due_at, task.version) == (date(2026, 12, 1), None, 1)


def test_patching_due_at_with_a_null_due_date_switches_to_a_due_time(user):
    task = TaskFactory(owner=user, due_date=date(2026, 12, 1))

    task_update(
        user=user, task=task, changes={"due_date": None, "due_at": _utc("2026-12-02T09:00Z")}
    )

    task.refresh_from_db()
    assert (task.due_date, task.due_day, task.time_zone) == (None, date(2026, 12, 2), "UTC")


def test_patching_a_due_date_onto_a_timed_task_is_refused_on_due_at(user):
    task = _timed(user, "2026-12-01T09:00:00Z", "Europe/Paris")

    refused = _refused(
        lambda: task_update(user=user, task=task, changes={"due_date": date(2026, 12, 5)})
    )

    assert refused == ("due_at", "conflict")


def test_a_due_at_write_from_a_stale_read_checks_the_rules_on_the_fresh_task(user):
    stale = TaskFactory(owner=user)
    task_update(
        user=user, task=Task.objects.get(pk=stale.pk), changes={"due_date": date(2026, 1, 2)}
    )

    refused = _refused(
        lambda: task_update(user=user, task=stale, changes={"due_at": _utc("2026-01-02T09:00Z")})
    )

    assert refused == ("due_at", "conflict")
    assert Task.objects.get(pk=stale.pk).due_date == date(2026, 1, 2)


# --- time_zone goes with due_at -------------------------------------------------------------


def test_due_at_without_a_zone_is_in_utc_on_create(user):
    task = task_create(user=user, data={"title": "t", "due_at": _utc("2026-12-01T23:30:00Z")})

    assert (task.time_zone, task.due_day) == ("UTC", date(2026, 12, 1))


def test_patching_due_at_keeps_the_tasks_zone(user):
    task = _timed(user, "2026-12-01T09:00:00Z", "Pacific/Kiritimati")

    task_update(user=user, task=task, changes={"due_at": _utc("2026-12-01T10:30:00Z")})

    task.refresh_from_db()
    assert (task.time_zone, task.due_day) == ("Pacific/Kiritimati", date(2026, 12, 2))


def test_patching_due_at_with_a_null_zone_keeps_the_tasks_zone(user):
    task = _timed(user, "2026-12-01T09:00:00Z", "Asia/Kathmandu")

    task_update(
        user=user, task=task, changes={"due_at": _utc("2026-12-03T09:00Z"), "time_zone": None}
    )

    task.refresh_from_db()
    assert task.time_zone == "Asia/Kathmandu"


def test_patching_due_at_onto_a_task_without_a_zone_puts_it_in_utc(user):
    task = TaskFactory(owner=user)

    task_update(user=user, task=task, changes={"due_at": _utc("2026-12-01T23:30:00-05:00")})

    task.refresh_from_db()
    assert (task.time_zone, task.due_day) == ("UTC", date(2026, 12, 2))


def test_a_null_due_at_clears_the_zone_and_the_due_day(user):
    task = _timed(user, "2026-12-01T09:00:00Z", "Europe/Paris")

    task_update(user=user, task=task, changes={"due_at": None})

    task.refresh_from_db()
    assert (task.due_at, task.time_zone, task.due_day) == (None, None, None)


def test_a_zone_without_a_due_at_is_refused_on_create(user):
    data = {"title": "t", "time_zone": "Europe/Paris"}

    assert _refused(lambda: task_create(user=user, data=data)) == ("time_zone", "without_due_at")


def test_a_zone_patched_onto_a_task_without_due_at_is_refused(user):
    task = TaskFactory(owner=user, due_date=date(2026, 12, 1))

    refused = _refused(
        lambda: task_update(user=user, task=task, changes={"time_zone": "Europe/Paris"})
    )

    assert refused == ("time_zone", "without_due_at")


def test_a_zone_sent_with_a_null_due_at_is_refused(user):
    task = _timed(user, "2026-12-01T09:00:00Z", "Europe/Paris")

    refused = _refused(
        lambda: task_update(
            user=user, task=task, changes={"due_at": None, "time_zone": "Europe/London"}
        )
    )

    assert refused == ("time_zone", "without_due_at")


def test_an_unknown_zone_is_refused_by_the_service_too(user):
    data = {"title": "t", "due_at": _utc("2026-12-01T09:00Z"), "time_zone": "Mars/Olympus_Mons"}

    assert _refused(lambda: task_create(user=user, data=data)) == ("time_zone", "unknown_zone")


def test_changing_only_the_zone_moves_the_due_day_and_bumps_the_version(user):
    task = _timed(user, "2026-12-31T23:30:00-05:00", "America/New_York")
    record_before = Change.objects.get(object_id=task.pk).seq

    task_update(user=user, task=task, changes={"time_zone": "Europe/Paris"})

    task.refresh_from_db()
    assert task.due_at == _utc("2027-01-01T04:30:00Z")  # the instant stays
    assert (task.time_zone, task.due_day, task.version) == ("Europe/Paris", date(2027, 1, 1), 2)
    assert Change.objects.get(object_id=task.pk).seq > record_before


def test_a_due_time_at_the_edge_of_year_9999_in_its_zone_is_refused(user):
    data = {
        "title": "t",
        "due_at": datetime(9999, 12, 31, 23, 0, tzinfo=UTC),
        "time_zone": "Pacific/Kiritimati",
    }

    assert _refused(lambda: task_create(user=user, data=data)) == ("due_at", "out_of_range")


def test_due_resolve_keeps_the_instant_of_an_offset_date_time():
    at = datetime(2026, 3, 8, 3, 0, tzinfo=timezone(timedelta(hours=-4)))

    resolved = due_resolve(current=None, changes={"due_at": at, "time_zone": "America/New_York"})

    assert resolved["due_at"] == at
    assert resolved["due_day"] == date(2026, 3, 8)


# --- the database holds the rules whatever code path writes ------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"due_date": date(2026, 1, 1), "due_day": date(2026, 1, 2)},
        {"due_date": date(2026, 1, 1), "due_day": None},
        {"due_day": date(2026, 1, 1)},
        {"due_at": datetime(2026, 1, 1, tzinfo=UTC), "due_day": date(2026, 1, 1)},
        {"time_zone": "UTC"},
        {
            "due_date": date(2026, 1, 1),
            "due_at": datetime(2026, 1, 1, tzinfo=UTC),
            "time_zone": "UTC",
            "due_day": date(2026, 1, 1),
        },
    ],
)
def test_the_database_refuses_due_fields_that_break_the_rules(user, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(project=inbox_of(user), created_by=user, title="t", **fields)
