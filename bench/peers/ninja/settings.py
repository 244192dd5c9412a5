"""The project's settings (database, pool, cache, JWT key, REQUEST_THREADS, logging) with the
middleware a ninja API keeps from `startproject`, Django's own PostgreSQL backend (not the
project's, which adds metrics and psycopg's C timestamptz loader) and the peer's own URLs.

Kept: SecurityMiddleware, CommonMiddleware, XFrameOptionsMiddleware. Left out, as an API that
authenticates by bearer token leaves them out: sessions, CSRF, authentication (request.user)
and messages. Not the project's own middleware (metrics, request ids, the access log, problem
responses): those are the project's requirements, not ninja's.
"""

from taskapi.settings.base import *  # noqa: F403

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "bench.peers.ninja.urls"
# The project's backend adds metrics and psycopg's C timestamptz loader (taskapi.core.postgresql);
# a ninja project uses Django's own.
if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"  # noqa: F405
