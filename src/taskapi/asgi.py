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

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taskapi.settings.base")

django_application = get_wsgi_application()

from taskapi.core.asgi_body_limit import BodyLimitMiddleware  # noqa: E402  (needs settings)

application = BodyLimitMiddleware(
    WSGIMiddleware(django_application, workers=settings.REQUEST_THREADS),
    max_bytes=settings.MAX_REQUEST_BODY_BYTES,
)
