"""The floor apps' ASGI application, built as src/taskapi/asgi.py builds the project's.

Not taskapi.asgi itself: that one keeps the settings module the environment names, and the
benchmark's environment names the project's. The project's BodyLimitMiddleware is left out: it
only reads the headers of a GET at the ASGI edge, and the floor is Django's share.
"""

import os

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.wsgi import get_wsgi_application

# Unconditionally: with the project's settings this would serve the project.
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.django_floor.settings"

django_application = get_wsgi_application()

application = WSGIMiddleware(django_application, workers=settings.REQUEST_THREADS)
