"""The floor apps' ASGI application, built as src/taskapi/asgi.py builds the project's (the
async floor: Django's ASGI handler, its view being async).

Not taskapi.asgi itself: that one keeps the settings module the environment names, and the
benchmark's environment names the project's. The project's BodyLimitMiddleware is left out: it
only reads the headers of a GET at the ASGI edge, and the floor is Django's share.
"""

import os

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application

# Unconditionally: with the project's settings this would serve the project.
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.django_floor.settings"

if settings.FLOOR_MODE == "async":
    # The async floor runs in the event loop, under Django's own ASGI handler.
    application = get_asgi_application()
else:
    application = WSGIMiddleware(get_wsgi_application(), workers=settings.REQUEST_THREADS)
