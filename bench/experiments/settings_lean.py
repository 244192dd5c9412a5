from bench.experiments.settings_orjson import *  # noqa: F403
from taskapi.settings.base import MIDDLEWARE

# Static files (the docs' assets) belong to nginx or a /static/ mount at the ASGI edge; CSRF and
# X-Frame-Options protect cookie-backed HTML, which a bearer-token JSON API does not serve.
MIDDLEWARE = [
    name
    for name in MIDDLEWARE
    if name
    not in {
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    }
]

DATABASES["default"]["CONN_HEALTH_CHECKS"] = False  # noqa: F405
