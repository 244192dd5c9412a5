"""Peer: the task API the way a django-ninja user writes it (see bench/peers/__init__.py).

A Django project with the project's settings (database, pool, cache, JWT key, REQUEST_THREADS,
logging; settings.py) and the project's models, and its own URLs: one NinjaAPI (api.py) with
ninja Schemas for input and output, an HttpBearer auth class that decodes the access token with
PyJWT and loads the user through the ORM, and views written with the ORM (querysets,
prefetch_related, select_for_update, F expressions, bulk_create's upsert). Served as the project
is (asgi.py: Django's WSGI handler in a2wsgi under Uvicorn, REQUEST_THREADS threads).

    .venv/bin/uvicorn bench.peers.ninja.asgi:application
"""
