"""Django's Redis cache backend, reusing one redis.Redis client per connection pool.

Django's RedisCacheClient builds a new redis.Redis(connection_pool=pool) for every cache call,
and redis-py 8's constructor looks its own version up with importlib.metadata each time
(DriverInfo -> get_lib_version): 4 % of a worker's GIL time in the benchmark's list scenario,
for the one token-version read per request. The pools, and so the socket timeouts and the
errors an outage raises (which callers turn into fail-open paths), are Django's, unchanged.
"""

from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, redis.Redis] = {}

    def get_client(self, key: str | None = None, *, write: bool = False) -> redis.Redis:
        pool = self._get_connection_pool(write)
        # Keyed by the pool itself: reads may pick one of several servers at random.
        client = self._clients.get(id(pool))
        if client is None:
            # redis.Redis is safe to share between threads; a race only builds a spare client.
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class ReusedClientRedisCache(RedisCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
