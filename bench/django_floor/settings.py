"""The project's settings with no middleware and the floor's own URLs (see __init__.py).

Everything else is the project's, read from the same environment: database (engine, pool,
CONN_MAX_AGE, health checks), cache, JWT key, REQUEST_THREADS, logging.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from taskapi.settings.base import *  # noqa: F403

MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.django_floor.urls"

# "work": the baseline's work inside Django; "empty": every route answers {} (no work);
# "async": the baseline's own async code as one async view under Django's ASGI handler.
FLOOR_MODES = ("work", "empty", "async")
FLOOR_MODE = os.environ.get("BENCH_DJANGO_FLOOR", "work")
if FLOOR_MODE not in FLOOR_MODES:
    raise ImproperlyConfigured(
        f"BENCH_DJANGO_FLOOR must be one of {FLOOR_MODES}, not {FLOOR_MODE!r}"
    )
