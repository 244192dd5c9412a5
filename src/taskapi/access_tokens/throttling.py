"""Rate limits of personal access tokens: per token and per user (all of a user's tokens
together), in fixed windows counted in the cache (shared by every instance with Redis). A
login's JWT is not counted here: this guards against a runaway script, not a person."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from taskapi.accounts.throttling import RateLimitState, windows_hit

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class TokenRateThrottle(BaseThrottle):
    def allow_request(self, request: Request, view: APIView) -> bool:
        token_id = getattr(request.user, "token_id", None)
        if token_id is None:
            return True
        # One round trip for both windows (windows_hit); a cache outage fails open.
        self.states: list[RateLimitState] = (
            windows_hit(
                windows=[
                    (f"ratelimit:token:{token_id}", settings.ACCESS_TOKEN_RATE_LIMIT),
                    (
                        f"ratelimit:token-user:{request.user.id}",
                        settings.ACCESS_TOKEN_USER_RATE_LIMIT,
                    ),
                ]
            )
            or []
        )
        return not any(state.exceeded for state in self.states)

    def wait(self) -> float:
        return float(max(state.reset for state in self.states if state.exceeded))
