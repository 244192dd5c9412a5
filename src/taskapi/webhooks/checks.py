"""`manage.py check --deploy`: loopback webhook receivers are for tests and local runs only."""

from typing import Any

from django.conf import settings
from django.core import checks

LOOPBACK_ALLOWED = checks.Warning(
    "WEBHOOKS_ALLOW_LOOPBACK is on: webhooks may be sent over plain http and to loopback "
    "addresses of this host.",
    hint="Unset WEBHOOKS_ALLOW_LOOPBACK (or set it to false) in production.",
    id="taskapi.webhooks.W001",
)


def loopback_allowed(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    return [LOOPBACK_ALLOWED] if settings.WEBHOOKS_ALLOW_LOOPBACK else []


def register() -> None:
    checks.register(loopback_allowed, checks.Tags.security, deploy=True)
