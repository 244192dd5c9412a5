from taskapi.settings.base import *  # noqa: F403
from taskapi.settings.base import CACHES

CACHES["default"]["BACKEND"] = "bench.experiments.redis_cache.ReusedClientRedisCache"
