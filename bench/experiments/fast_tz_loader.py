"""The project's app with Django's timestamptz loader on psycopg's C parser (`fasttz` variant).

Django's psycopg backend registers a loader for timestamptz that subclasses psycopg's pure-Python
TimestamptzLoader (django/db/backends/postgresql/psycopg_any.py), so every timestamp the ORM
reads is parsed in Python even with psycopg[binary] installed: 42 per list page of 20 tasks
(Django ticket #36960, psycopg issue #1273). psycopg's C loader is final and can only be reached
through a private API (AdaptersMap._get_optimised), which is why this stays an experiment.
"""

from typing import Any

import psycopg
from django.db.backends.postgresql import base, psycopg_any
from psycopg.types.datetime import TimestamptzLoader

from taskapi.asgi import application  # noqa: F401  (sets Django up)


class _FastTzLoader(TimestamptzLoader):
    timezone = None

    def __init__(self, oid: int, context: Any = None) -> None:
        super().__init__(oid, context)
        adapters = context.adapters if context is not None else psycopg.adapters
        optimised = adapters._get_optimised(TimestamptzLoader)  # private psycopg API
        self._fast_load = optimised(oid, context).load

    def load(self, data: Any) -> Any:
        return self._fast_load(data).replace(tzinfo=self.timezone)


def _register_tzloader(tz: Any, context: Any) -> None:
    loader = type("SpecificTzLoader", (_FastTzLoader,), {"timezone": tz})
    context.adapters.register_loader("timestamptz", loader)


psycopg_any.register_tzloader = _register_tzloader
base.register_tzloader = _register_tzloader
psycopg_any.get_adapters_template.cache_clear()  # built on the first connection, not before
