"""The async floor: the baseline's own async code as one async Django view.

`django-async-floor` (BENCH_DJANGO_FLOOR=async) is served by Django's ASGI handler with no
middleware. Its one view hands the request's ASGI scope and body to bench/baseline_app.py's app,
collects what that app sends, and returns it as an HttpResponse: the same asyncio psycopg pool,
redis.asyncio client, SQL, JWT checks and JSON as the baseline, in the same event loop. The
difference from the baseline is Django's ASGI request handling and nothing else: this is how
close an async Django view can come, with its database and cache calls already as lean as the
baseline's (Django's ORM and cache have no native async driver; their async methods run the
sync code in a thread).
"""

import asyncio

from django.http import HttpRequest, HttpResponse

from bench import baseline_app

_started = False
_lock = asyncio.Lock()


async def _start_once() -> None:
    # Django's ASGI handler does not speak the lifespan protocol: start on the first request.
    global _started
    if not _started:
        async with _lock:
            if not _started:
                await baseline_app._startup()
                _started = True


async def baseline_in_django(request: HttpRequest, **route: object) -> HttpResponse:
    await _start_once()
    body = request.body
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await baseline_app.app(request.scope, receive, send)
    start, payload = sent[0], sent[1]
    response = HttpResponse(payload.get("body", b""), status=start["status"])
    for name, value in start["headers"]:
        if name != b"content-length":  # HttpResponse sets its own
            response[name.decode("latin-1")] = value.decode("latin-1")
    return response
