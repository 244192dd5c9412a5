"""The project as a WSGI app, for `uvicorn --interface wsgi` (the `wsgi` variant): each request
runs start to end on one thread, without Django's ASGI hops between the event loop and threads.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taskapi.settings.base")

application = get_wsgi_application()
