"""Candidate optimisations, measured by `python -m bench --experiment` before they are proposed.

Each variant is the project served another way: other settings, other environment, or a few
hot-path classes swapped at startup (lean_asgi.py). None of this is production code: a variant
that pays off is a recommendation for src/, with these figures as its evidence.
"""

PROJECT_APP = "taskapi.asgi:application"
LEAN = {"DJANGO_SETTINGS_MODULE": "bench.experiments.settings_lean", "DB_POOL_MAX_SIZE": "32"}

VARIANTS: dict[str, dict] = {
    # psycopg pool of 32 instead of 10: requests hold their connection until the response is
    # built, so at 32 requests in flight per worker they queue for one (py-spy: getconn waits).
    "pool32": {"app": PROJECT_APP, "env": {"DB_POOL_MAX_SIZE": "32"}},
    # No health check of a pooled connection at every checkout (CONN_HEALTH_CHECKS): it costs
    # one round trip to PostgreSQL per request; psycopg's pool already drops broken connections
    # when they are returned, and its background checks can run without blocking a request.
    "nocheck": {
        "app": PROJECT_APP,
        "env": {"DJANGO_SETTINGS_MODULE": "bench.experiments.settings_nocheck"},
    },
    # orjson renderer and parser instead of DRF's json-module ones.
    "orjson": {
        "app": PROJECT_APP,
        "env": {"DJANGO_SETTINGS_MODULE": "bench.experiments.settings_orjson"},
    },
    # orjson, no middleware that does nothing for a JSON API behind nginx (WhiteNoise, CSRF,
    # X-Frame-Options: what remains is request id, access log, security headers, problems,
    # metrics), no per-checkout health check, pool of 32.
    "lean": {
        "app": PROJECT_APP,
        "env": LEAN,
    },
    # The same Django project behind Uvicorn's WSGI interface (a thread pool): no sync/async
    # switches inside a request (py-spy: AsyncToSync / CurrentThreadExecutor on every request).
    "wsgi": {
        "app": "bench.experiments.wsgi_app:application",
        "env": {},
        "args": ["--interface", "wsgi"],
    },
    # The same, staying ASGI: Django's WSGI handler wrapped by a2wsgi (one hop to a thread).
    "a2wsgi": {"app": "bench.experiments.a2wsgi_app:application", "env": {}, "requires": "a2wsgi"},
    # The JSON access log line of every request at INFO, skipped (LOG_LEVEL=WARNING).
    "nolog": {"app": PROJECT_APP, "env": {"LOG_LEVEL": "WARNING"}},
    # Without django-prometheus (middleware pair and instrumented database backend).
    "noprom": {
        "app": PROJECT_APP,
        "env": {"DJANGO_SETTINGS_MODULE": "bench.experiments.settings_noprom"},
    },
    # Everything that paid, together: a2wsgi + lean read path + lean settings, no prometheus
    # (the project's shared Redis pool is in src/ since).
    "combo": {
        "app": "bench.experiments.combo_app:application",
        "requires": "a2wsgi",
        "env": {**LEAN, "DJANGO_SETTINGS_MODULE": "bench.experiments.settings_combo"},
    },
    # Two request threads per process instead of REQUEST_THREADS=10: fewer threads contend for
    # the GIL (context switches per request, by hand: 60 -> 27), but a database farther away
    # than loopback needs the threads to overlap its round trips.
    "threads2": {"app": PROJECT_APP, "env": {"REQUEST_THREADS": "2"}},
    # Django's timestamptz loader on psycopg's C parser instead of its Python one (private API).
    "fasttz": {"app": "bench.experiments.fast_tz_loader:application", "env": {}},
    # lean, plus a read path without DRF field objects or django-filter's per-request deepcopy:
    # TaskOut as a plain function, the query parameters checked by one Django form built once.
    "lean-read": {
        "app": "bench.experiments.lean_asgi:application",
        "env": LEAN,
    },
}
