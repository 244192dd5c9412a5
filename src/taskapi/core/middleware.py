"""Cross-cutting HTTP conventions, applied once for every route."""

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from taskapi.core import context
from taskapi.core.errors import (
    PROBLEM_CONTENT_TYPE,
    problem,
    problem_for_exception,
    problem_response,
)
from taskapi.core.request_id import request_id_from

access_logger = logging.getLogger("taskapi.access")
logger = logging.getLogger(__name__)

Handler = Callable[[HttpRequest], HttpResponse]


class RequestIdMiddleware:
    """Echoes a sane incoming X-Request-ID or makes one; log lines of the request carry it."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get("X-Request-ID"))
        token = context.request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            context.request_id.reset(token)
        response["X-Request-ID"] = request_id
        response["X-Content-Type-Options"] = "nosniff"
        if "Allow" in response:
            # DRF lists OPTIONS on every view, but OPTIONS is a 405 here (no metadata pages).
            allowed = [m.strip() for m in response["Allow"].split(",")]
            response["Allow"] = ", ".join(m for m in allowed if m and m != "OPTIONS")
        return response


class AccessLogMiddleware:
    """One log line per request: who asked for what, and how it went."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        access_logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "route": match.route if match else None,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": getattr(user, "pk", None) if user is not None else None,
            },
        )
        return response


_DETAILS = {
    400: "The request could not be understood.",
    403: "You do not have permission to do this.",
    404: "No resource exists at this URL.",
    405: "This method is not allowed here; see the Allow header.",
    500: "An unexpected error occurred. It has been logged.",
}


class ProblemResponseMiddleware:
    """Errors raised outside DRF views (URL resolver, Django itself) become problem+json too."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(
            PROBLEM_CONTENT_TYPE
        ):
            # A plain Django error response (405 from a generic view, say): same status, our shape.
            reshaped = problem_response(
                problem(status=response.status_code, detail=_DETAILS.get(response.status_code, ""))
            )
            for header in ("Allow", "WWW-Authenticate", "Retry-After"):
                if header in response:
                    reshaped[header] = response[header]
            return reshaped
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        response = problem_for_exception(exc)
        if response is None:
            logger.error("unhandled exception", exc_info=exc)
            response = problem_response(
                problem(status=500, detail="An unexpected error occurred. It has been logged.")
            )
        return response
