"""The framework floor: what Django costs before the project adds anything.

Two apps, served by the benchmark next to the project and the baseline (bench/run.py, role
"floor"), both with the project's settings except MIDDLEWARE = [] and their own URLs, and both
served the way the project is (src/taskapi/asgi.py: Django's WSGI handler in a2wsgi under
Uvicorn, REQUEST_THREADS threads):

- django-empty (BENCH_DJANGO_FLOOR=empty): every route answers `{}` and does nothing else. Its
  cost is Django's request handling, a2wsgi and Uvicorn alone.
- django-floor (BENCH_DJANGO_FLOOR=work): the baseline's work (bench/baseline_app.py) inside
  Django: PyJWT HS256 decode with the project's key and checks, the token version through
  Django's cache (the project's Redis backend), the project's SQL through
  `django.db.connection.cursor()` (the project's database settings: django-prometheus' backend,
  psycopg pool, CONN_MAX_AGE=0, health checks), the same JSON via orjson. No DRF, no ORM, no
  middleware. GET /tasks/?page_size=N (page 1 only), GET /tasks/{id}/, GET /health/.

Read as a ladder from the baseline to the project: baseline → django-empty is what Django's
handler costs with no work; django-floor is the cheapest a Django-served endpoint doing the
baseline's work can be; django-floor → project is what DRF, the ORM and the middleware add. If
django-floor is below a throughput target, no amount of work on the project's own code reaches
it while Django serves the request.

By hand (one worker, no nginx):

    DJANGO_SECRET_KEY=... DATABASE_URL=... REDIS_URL=... BENCH_DJANGO_FLOOR=work \
        .venv/bin/uvicorn bench.django_floor.asgi:application
"""
