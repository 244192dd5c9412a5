"""The project's WSGI handler inside an ASGI app (a2wsgi), still served by Uvicorn: each
request hops once to a worker thread and runs to its end there (the `a2wsgi` variant), instead
of Django's ASGI handler bouncing between the event loop and a new thread per request.
"""

import os

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taskapi.settings.base")

_wsgi = get_wsgi_application()

from taskapi.core.asgi_body_limit import BodyLimitMiddleware  # noqa: E402  (needs settings)

# As many threads as pooled connections: a request never waits for one with a thread held.
application = BodyLimitMiddleware(
    WSGIMiddleware(_wsgi, workers=int(os.environ.get("DB_POOL_MAX_SIZE", "10"))),
    max_bytes=settings.MAX_REQUEST_BODY_BYTES,
)
