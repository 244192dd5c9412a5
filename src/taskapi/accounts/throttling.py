"""Fixed-window rate limits, counted in Django's cache: register and login per client address
here, personal access tokens in taskapi.access_tokens.throttling (both through windows_hit).

With REDIS_URL set the counters are shared by every process; SET NX and INCR are atomic there,
so concurrent requests cannot both take the last slot.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from taskapi.core.client_address import client_address
from taskapi.core.rates import parse_rate  # the settings check AUTH_RATE_LIMIT with it

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset: int  # seconds until the window ends
    exceeded: bool = False

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


_STATE = "_rate_limit_state"


def _count_with_cache_api(backend: BaseCache, key: str, period: int) -> int:
    backend.add(key, 0, period + 1)
    try:
        return backend.incr(key)
    except ValueError:  # expired between add and incr
        backend.add(key, 1, period + 1)
        return 1


def windows_hit(*, windows: list[tuple[str, str]]) -> list[RateLimitState] | None:
    """Count one request under each `key` in the current fixed window of its `rate`; None when
    the cache is unavailable (callers fail open).

    With Redis, one pipelined round trip counts them all (SET NX EX, then INCR, per window):
    Django's cache.add and cache.incr take three round trips a window (incr asks EXISTS first),
    which made a request with an access token cost 1.39x one with a JWT (bench/README.md).
    Without Redis (one process, its memory cache), each window is counted through the cache API.
    """
    backend = caches["default"]  # the backend itself: `cache` is a proxy to it
    now = time.time()
    plans = []
    for key, rate in windows:
        limit, period = parse_rate(rate)
        window = int(now // period)
        plans.append((f"{key}:{window}", limit, period, window))
    try:
        if isinstance(backend, RedisCache):
            pipeline = backend._cache.get_client(write=True).pipeline(transaction=False)
            for key, _, period, _ in plans:
                full_key = backend.make_and_validate_key(key)
                pipeline.set(full_key, 0, ex=period + 1, nx=True)
                pipeline.incr(full_key)
            counts = pipeline.execute()[1::2]
        else:
            counts = [_count_with_cache_api(backend, key, period) for key, _, period, _ in plans]
    except Exception:
        logger.warning("rate limit cache unavailable", exc_info=True)
        return None
    return [
        RateLimitState(
            limit=limit,
            remaining=max(0, limit - count),
            reset=max(1, math.ceil((window + 1) * period - now)),
            exceeded=count > limit,
        )
        for (_, limit, period, window), count in zip(plans, counts, strict=True)
    ]


class ClientAddressRateThrottle(BaseThrottle):
    """Per client address and per view (`throttle_scope`), settings.AUTH_RATE_LIMIT."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        scope = getattr(view, "throttle_scope", view.__class__.__name__)
        key = f"ratelimit:{scope}:{client_address(request)}"
        states = windows_hit(windows=[(key, settings.AUTH_RATE_LIMIT)])
        if states is None:
            # Fail open: an unreachable cache should not lock everyone out of logging in.
            return True
        state = self.state = states[0]
        setattr(request._request, _STATE, self.state)
        return not state.exceeded

    def wait(self) -> float:
        return float(self.state.reset)


if TYPE_CHECKING:
    _ViewBase = APIView  # what the mixin below precedes, so that its super() is known
else:
    _ViewBase = object


class RateLimitHeadersMixin(_ViewBase):
    """Adds RateLimit-* headers to every response of the view, errors included."""

    throttle_classes = [ClientAddressRateThrottle]

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        state: RateLimitState | None = getattr(getattr(request, "_request", request), _STATE, None)
        if state is not None:
            for name, value in state.headers().items():
                response[name] = value
        return super().finalize_response(request, response, *args, **kwargs)
