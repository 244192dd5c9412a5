"""Django's Redis cache backend, with one connection pool and one client per process.

Django keeps its cache objects in an asgiref Local that follows the context, and the server
runs every request in a copy of the context (a2wsgi, like Django's own ASGI handler): each
request gets a new RedisCache object, and with Django's client a new connection pool, so a new
TCP connection to Redis, for the one token-version read it makes. The benchmark measured that
as a fifth of a worker's CPU in the list scenario (bench/README.md).

So the pools live here, one per (server, options) for the process, and so does one redis.Redis
client per pool (redis-py 8's constructor looks its own version up with importlib.metadata).
Socket timeouts, and the errors an outage raises (which callers turn into fail-open paths),
are Django's, unchanged. redis-py pools notice a fork and reconnect in the child.
"""

import threading
from typing import TYPE_CHECKING, Any

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_lock = threading.Lock()
_pools: dict[tuple[str, str], redis.ConnectionPool] = {}
_clients: dict[int, redis.Redis] = {}


class SharedPoolRedisCacheClient(RedisCacheClient):
    if TYPE_CHECKING:
        # What Django's RedisCacheClient sets up in __init__ and this subclass reuses: private,
        # so its stubs leave it out.
        _servers: list[str]
        _pool_class: type[redis.ConnectionPool]
        _pool_options: dict[str, Any]
        _client: type[redis.Redis]

        def _get_connection_pool_index(self, write: bool) -> int: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = repr(sorted(self._pool_options.items()))
        self._pool_keys = [(server, options) for server in self._servers]

    def _get_connection_pool(self, write: bool) -> redis.ConnectionPool:
        key = self._pool_keys[self._get_connection_pool_index(write)]
        pool = _pools.get(key)
        if pool is None:
            with _lock:
                pool = _pools.get(key)
                if pool is None:
                    pool = _pools[key] = self._pool_class.from_url(key[0], **self._pool_options)
        return pool

    def get_client(
        self, key: str | bytes | memoryview | None = None, *, write: bool = False
    ) -> redis.Redis:
        pool = self._get_connection_pool(write)
        client = _clients.get(id(pool))
        if client is None:
            # redis.Redis is safe to share between threads; a race only builds a spare client.
            client = _clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class SharedPoolRedisCache(RedisCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedPoolRedisCacheClient
