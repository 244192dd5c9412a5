"""The ninja peer's ASGI application, built as src/taskapi/asgi.py builds the project's: Django's
WSGI handler in a2wsgi under Uvicorn, REQUEST_THREADS threads (no body limit at the edge: the
benchmark sends small bodies)."""

import os

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.wsgi import get_wsgi_application

# Unconditionally: the benchmark's environment names the project's settings.
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.peers.ninja.settings"

application = WSGIMiddleware(get_wsgi_application(), workers=settings.REQUEST_THREADS)
