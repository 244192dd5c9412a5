"""The ASGI application Uvicorn serves.

Django's views here are synchronous. Under Django's own ASGI handler each request hops between
the event loop and worker threads several times; the benchmark measured that as half of a
worker's CPU (bench/README.md). So Uvicorn serves Django's WSGI handler through a2wsgi instead:
one hop to a fixed pool of REQUEST_THREADS threads, where the request runs to its end. The body
limit stays at the ASGI edge, in front of everything.
"""

import os

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.wsgi import get_wsgi_application

from taskapi.settings.env import configuration_checked

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taskapi.settings.base")

# A bad environment variable: one line that names it, and exit 3, which Uvicorn and gunicorn take
# for "cannot start" (any other failure, and they start the worker again, forever).
with configuration_checked():
    django_application = get_wsgi_application()

from taskapi.core.asgi_body_limit import BodyLimitMiddleware  # after the settings: it reads them

# Two ignored arg-type errors, both typing gaps: Django's stubs give the WSGI handler's result as
# HttpResponseBase, which they do not make iterable (every response it returns is), and a2wsgi
# types ASGI scopes and messages as TypedDicts where BodyLimitMiddleware takes any mapping.
application = BodyLimitMiddleware(
    WSGIMiddleware(django_application, workers=settings.REQUEST_THREADS),  # type: ignore[arg-type]
    max_bytes=settings.MAX_REQUEST_BODY_BYTES,
)
