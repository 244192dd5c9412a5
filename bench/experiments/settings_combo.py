from bench.experiments.settings_lean import *  # noqa: F403
from bench.experiments.settings_lean import DATABASES, MIDDLEWARE

MIDDLEWARE = [name for name in MIDDLEWARE if not name.startswith("django_prometheus.")]
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
