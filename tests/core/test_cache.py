"""The Redis cache backend that shares one pool and client per process: same timeouts and errors
as Django's, one connection where Django opened one per request."""

import socket
import time
from collections.abc import Iterator

import pytest
import redis

from taskapi.accounts import token_versions
from taskapi.core.cache import SharedPoolRedisCache
from tests.factories import UserFactory
from tests.support.services import RedisServer

TIMEOUTS = {"socket_connect_timeout": 1, "socket_timeout": 0.2}


def _backend(url: str) -> SharedPoolRedisCache:
    return SharedPoolRedisCache(url, {"KEY_PREFIX": "test", "OPTIONS": TIMEOUTS})


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = RedisServer.start(tmp_path_factory.mktemp("redis"))
    try:
        yield server.url()
    finally:
        server.stop()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_every_cache_call_uses_one_client_on_the_configured_pool():
    client = _backend("redis://127.0.0.1:6379/0")._cache

    first, second = client.get_client(), client.get_client(write=True)

    assert first is second
    assert first.connection_pool.connection_kwargs["socket_timeout"] == 0.2
    assert first.connection_pool.connection_kwargs["socket_connect_timeout"] == 1


def test_cache_objects_of_different_requests_share_one_pool_and_client():
    # Django builds a cache object per request context (asgiref Local); they must not each
    # bring a pool of their own.
    first, second = _backend("redis://127.0.0.1:6379/0"), _backend("redis://127.0.0.1:6379/0")
    other_server = _backend("redis://127.0.0.1:6380/0")

    assert first._cache.get_client() is second._cache.get_client()
    assert other_server._cache.get_client() is not first._cache.get_client()


def test_many_requests_in_their_own_contexts_reuse_one_redis_connection(redis_url, settings):
    import contextvars

    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "taskapi.core.cache.SharedPoolRedisCache",
            "LOCATION": redis_url,
            "OPTIONS": TIMEOUTS,
        }
    }
    probe = redis.Redis.from_url(redis_url)
    before = probe.info("stats")["total_connections_received"]

    # The way the server runs each request: in a fresh copy of the context.
    for n in range(30):
        contextvars.copy_context().run(lambda n=n: caches["default"].set(f"key-{n}", n))

    opened = probe.info("stats")["total_connections_received"] - before
    assert opened == 1
    assert probe.dbsize() == 30


def test_values_round_trip_through_a_real_redis(redis_url):
    cache = _backend(redis_url)

    cache.set("k", {"n": 1})
    assert cache.add("counter", 0)
    assert cache.incr("counter") == 1
    assert cache.get("k") == {"n": 1}


def test_a_redis_that_never_answers_fails_within_the_socket_timeout(silent_port):
    cache = _backend(f"redis://127.0.0.1:{silent_port}/0")
    started = time.monotonic()

    with pytest.raises(redis.exceptions.TimeoutError):
        cache.get("k")

    # redis-py retries a timeout a few times with a short backoff; it must not hang.
    assert time.monotonic() - started < 2


def test_token_versions_fall_back_to_the_database_when_redis_is_down(db, closed_port, monkeypatch):
    user = UserFactory()
    monkeypatch.setattr(token_versions, "cache", _backend(f"redis://127.0.0.1:{closed_port}/0"))

    assert token_versions.token_version_get(user_id=user.pk) == user.token_version


def test_token_rate_windows_are_counted_in_one_round_trip_and_expire(redis_url, settings):
    # With Redis, both windows of a token request (per token, per user) are one pipeline.
    from django.core import cache as caches

    from taskapi.accounts import throttling

    settings.CACHES = {
        "default": {
            "BACKEND": "taskapi.core.cache.SharedPoolRedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "windows",
        }
    }
    # (Django's setting_changed handler builds the caches anew, and again after the test.)
    caches.caches["default"].clear()
    windows = [("ratelimit:token:1", "2/minute"), ("ratelimit:token-user:1", "3/minute")]
    client = redis.Redis.from_url(redis_url)
    before = client.info("commandstats")
    counted = [throttling.windows_hit(windows=windows) for _ in range(4)]
    after = client.info("commandstats")
    keys = sorted(key.decode() for key in client.keys("windows:*"))
    ttls = [client.ttl(key) for key in keys]
    assert [[state.exceeded for state in states] for states in counted] == [
        [False, False],
        [False, False],
        [True, False],
        [True, True],
    ]
    assert [[state.remaining for state in states] for states in counted][:2] == [[1, 2], [0, 1]]
    assert len(keys) == 2 and all(0 < ttl <= 61 for ttl in ttls), (keys, ttls)

    def calls(stats: dict, command: str) -> int:
        return stats.get(f"cmdstat_{command}", {}).get("calls", 0)

    # SET NX and INCRBY per window, and nothing else (Django's incr would ask EXISTS first).
    assert calls(after, "incrby") - calls(before, "incrby") == 8
    assert calls(after, "exists") == calls(before, "exists")
