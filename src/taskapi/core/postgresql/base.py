"""Django's PostgreSQL backend (with django-prometheus' metrics), reading timestamptz with
psycopg's C loader.

Django 5.2 registers a timestamptz loader that subclasses psycopg's pure-Python
TimestamptzLoader (django/db/backends/postgresql/psycopg_any.py), so with psycopg[binary]
installed every timestamp the ORM reads is still parsed in Python: 42 per list page of 20 tasks
(Django ticket #36960). Django 6.1 fixes it by wrapping the loader psycopg itself registers for
timestamptz, found through the public adapters API, instead of subclassing the Python one. This
backend does the same on Django 5.2; drop it when the project moves to Django 6.1.
"""

from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
from django_prometheus.db.backends.postgresql import base  # type: ignore[import-untyped]  # no stubs
from psycopg import adapt, adapters
from psycopg.abc import AdaptContext, Buffer
from psycopg.pq import Format


class TzLoader(adapt.Loader):
    """psycopg's own timestamptz loader (its C one when compiled), with the value's zone
    replaced by `timezone`, as Django's loader does (None: a naive value)."""

    timezone: tzinfo | None = None
    # What psycopg registers for timestamptz in text format; set per subclass.
    wrapped: type[adapt.Loader]

    def __init__(self, oid: int, context: AdaptContext | None = None) -> None:
        super().__init__(oid, context)
        self._load = self.wrapped(oid, context).load

    def load(self, data: Buffer) -> datetime:
        value: datetime = self._load(data)
        return value.replace(tzinfo=self.timezone)


@lru_cache
def tz_loader(timezone: tzinfo | None) -> type[TzLoader]:
    wrapped = adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    if wrapped is None:  # psycopg always registers one; this keeps the type checker honest
        raise RuntimeError("psycopg has no timestamptz loader")
    attributes = {"timezone": timezone, "wrapped": wrapped}
    return type("SpecificTzLoader", (TzLoader,), attributes)


@lru_cache
def adapters_template(template: adapt.AdaptersMap, timezone: tzinfo | None) -> adapt.AdaptersMap:
    """Django's adapters for new connections, with the timestamptz loader replaced."""
    context = adapt.AdaptersMap(template)
    context.register_loader(TIMESTAMPTZ_OID, tz_loader(timezone))
    return context


class DatabaseWrapper(base.DatabaseWrapper):  # type: ignore[misc]  # untyped base, above
    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        # Django's template carries its loader, set for self.timezone; create_cursor compares
        # the connection's loader's `timezone` with it, and ours has the same attribute, so a
        # cursor registers nothing of its own unless the zone changes.
        params["context"] = adapters_template(params["context"], self.timezone)
        return params
