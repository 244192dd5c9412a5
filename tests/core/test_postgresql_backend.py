"""The PostgreSQL backend (taskapi.core.postgresql): timestamps read through psycopg's own
timestamptz loader (its C one), as aware UTC datetimes equal to what was written."""

from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
from django.db import connection, connections
from psycopg.pq import Format
from psycopg.types.datetime import TimestamptzLoader

from taskapi.core.postgresql.base import DatabaseWrapper, TzLoader
from tests.factories import TaskFactory

pytestmark = pytest.mark.django_db

TIMESTAMPTZ = psycopg.adapters.types["timestamptz"].oid


def _read(value: datetime) -> datetime:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz", [value])
        return cursor.fetchone()[0]


def test_the_project_backend_is_in_use():
    assert isinstance(connections["default"], DatabaseWrapper)
    assert connection.vendor == "postgresql"  # django-prometheus labels its metrics with it


def test_timestamps_are_loaded_by_psycopgs_compiled_loader():
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)
    assert issubclass(loader, TzLoader)
    assert loader.timezone == UTC
    # What psycopg itself registers: with psycopg[binary] its C loader, not the Python class
    # Django 5.2 subclasses.
    assert loader.wrapped is psycopg.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)
    assert loader.wrapped is not TimestamptzLoader
    assert loader.wrapped.__module__.startswith("psycopg_binary")


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 30, 12, 34, 56, 789012, tzinfo=UTC),
        datetime(2026, 11, 30, 12, 34, 56, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1899, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        # Another offset: the same instant, read back in UTC.
        datetime(2026, 3, 29, 2, 30, 0, 5, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ],
)
def test_timestamps_read_back_equal_aware_and_in_utc(value):
    read = _read(value)
    assert read == value
    assert read.tzinfo is UTC
    assert read.microsecond == value.microsecond


def test_a_task_reads_back_its_timestamps():
    due_at = datetime(2030, 6, 1, 8, 0, 0, 123456, tzinfo=UTC)
    task = TaskFactory(due_at=due_at, time_zone="UTC")
    read = type(task).objects.get(pk=task.pk)
    assert (read.created_at, read.updated_at, read.due_at) == (
        task.created_at,
        task.updated_at,
        due_at,
    )
    assert read.created_at.tzinfo is UTC and read.due_at.tzinfo is UTC
