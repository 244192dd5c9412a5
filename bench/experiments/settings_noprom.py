from taskapi.settings.base import *  # noqa: F403
from taskapi.settings.base import DATABASES, MIDDLEWARE

# Without django-prometheus' two middlewares and its instrumented database backend.
MIDDLEWARE = [name for name in MIDDLEWARE if not name.startswith("django_prometheus.")]
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
