import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taskapi.settings.base")

django_application = get_asgi_application()

from taskapi.core.asgi_body_limit import BodyLimitMiddleware  # noqa: E402  (needs settings)

application = BodyLimitMiddleware(django_application, max_bytes=settings.MAX_REQUEST_BODY_BYTES)
