"""Enforce the request body limit at the ASGI edge, before Django buffers or parses anything.

Django's ASGI handler reads the whole body into a spooled file before dispatch, and a chunked body
(no Content-Length) would otherwise reach DRF as empty. This wrapper reads at most the limit,
answers 413 past it, and hands Django the buffered body with an exact Content-Length.
"""

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from django.urls import Resolver404, resolve

from taskapi.core.errors import PROBLEM_CONTENT_TYPE, problem
from taskapi.core.request_id import request_id_from

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_logger = logging.getLogger("taskapi.access")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["started"] = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await self._reject(scope, send, 400, "Content-Length is not a number.")
                return
            if int(declared) > self.max_bytes:
                await self._reject(scope, send, 413, self._too_large())
                return
            await self.app(scope, receive, send)  # within the limit: the server enforces it
            return
        # No Content-Length (chunked, or no body): buffer up to the limit ourselves.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(scope, send, 413, self._too_large())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        scope = dict(scope)
        scope["headers"] = [*scope.get("headers", []), (b"content-length", str(size).encode())]
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return f"The request body exceeds {self.max_bytes} bytes."

    async def _reject(self, scope: Scope, send: Send, status: int, detail: str) -> None:
        headers = dict(scope.get("headers") or [])
        request_id = request_id_from(headers.get(b"x-request-id", b"").decode("latin-1"))
        body = orjson.dumps(problem(status=status, detail=detail))
        _log_rejection(scope, status, request_id)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", PROBLEM_CONTENT_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-request-id", request_id.encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _log_rejection(scope: Scope, status: int, request_id: str) -> None:
    """The same access line Django's middleware writes, for a request Django never saw."""
    try:
        route = resolve(scope["path"]).route
    except Resolver404:
        route = None
    started = scope.get("state", {}).get("started", time.perf_counter())
    access_logger.info(
        "request",
        extra={
            "request_id": request_id,
            "method": scope["method"],
            "path": scope["path"],
            "route": route,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "user_id": None,
        },
    )
