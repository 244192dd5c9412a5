"""Per-request context that log lines read: set by RequestIdMiddleware."""

from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="-")
