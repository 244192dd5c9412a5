from taskapi.settings.base import *  # noqa: F403

ROOT_URLCONF = "tests.support.fault_urls"
