from taskapi.settings.base import *  # noqa: F403
from taskapi.settings.base import DATABASES

DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
