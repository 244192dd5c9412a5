"""Django's RedisCache with one redis.Redis client per connection pool, reused.

Django's RedisCacheClient builds a new redis.Redis(connection_pool=pool) for every cache call,
and redis-py 8's constructor looks its own version up with importlib.metadata every time
(DriverInfo -> get_lib_version): 4 % of the project's GIL time in the list scenario, for the
one token-version read per request. The clients share the pool, as before; redis.Redis is safe
to share between threads.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._client(connection_pool=self._get_connection_pool(write))
            self._clients[index] = client
        return client


class ReusedClientRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
