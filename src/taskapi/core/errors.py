"""RFC 9457 problem details: the one place that shapes every error response."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

# Titles of plain HTTP errors (type "about:blank"): the status's reason phrase, per RFC 9457 4.2.1.
HTTP_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class DomainError(Exception):
    """An error a service raises on purpose; the handler renders it as a problem."""

    status: int = 400
    type: str = "about:blank"
    title: str = "Bad Request"
    detail: str = ""

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.detail or self.title)
        if detail is not None:
            self.detail = detail
        self.extra = extra

    def headers(self) -> dict[str, str]:
        return {}


class NotFound(DomainError):
    status = 404
    type = "/problems/not-found"
    title = "Resource not found."
    detail = "No resource exists at this URL."


class Conflict(DomainError):
    status = 409
    type = "/problems/conflict"
    title = "The request conflicts with another one in progress."


class PreconditionFailed(DomainError):
    status = 412
    type = "/problems/precondition-failed"
    title = "The resource changed since you read it."
    detail = "If-Match does not match the current ETag; read the resource again."


class PermissionDenied(DomainError):
    """A member of a project whose role lacks the permission (taskapi.projects.policy). Only
    ever raised after membership is established: a non-member gets the resource's 404."""

    status = 403
    type = "/problems/permission-denied"
    title = "Permission denied."

    def __init__(self, permission: str) -> None:
        super().__init__(
            f"Your role in this project does not allow {permission}.", permission=permission
        )


def field_error(field: str | None, code: str, message: str) -> dict[str, Any]:
    return {"field": field, "code": code, "message": message}


class FieldsInvalid(DomainError):
    """A 400 validation problem found by a service rather than a serializer (it needed the
    database: a name already taken, an id that is not one of the user's), in the serializer's
    shape. One field error, from the arguments or else the class's `field`, `code` and
    `message`; or several, as `errors`."""

    status = 400
    type = "/problems/validation-error"
    title = "Request is invalid."
    field: str | None = None
    code = "invalid"
    message = "This value is invalid."

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        code: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        if errors is None:
            field = field if field is not None else self.field
            errors = [field_error(field, code or self.code, message or self.message)]
        count = len(errors)
        super().__init__(
            f"{count} field{'s' if count != 1 else ''} failed validation.", errors=errors
        )


class ServiceUnavailable(DomainError):
    status = 503
    type = "/problems/service-unavailable"
    title = "A backing service is unavailable."
    detail = "The database did not answer. Try again shortly."
    retry_after = 5

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


def problem(
    *,
    status: int,
    detail: str,
    type_: str = "about:blank",
    title: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": type_,
        "title": title or HTTP_TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    return body


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JsonResponse:
    """A plain Django response, for errors raised outside DRF (middleware, URL resolver)."""
    response = JsonResponse(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _flatten_validation_errors(detail: Any, prefix: str = "") -> list[dict[str, Any]]:
    """DRF's nested error dict → [{field, code, message}]; non-field errors get field null."""
    errors: list[dict[str, Any]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in ("non_field_errors", "__all__"):
                field = prefix or None
            else:
                field = f"{prefix}.{key}" if prefix else str(key)
            errors.extend(_flatten_validation_errors(value, field or ""))
        return [{**e, "field": e["field"] or None} for e in errors]
    if isinstance(detail, list):
        for item in detail:
            errors.extend(_flatten_validation_errors(item, prefix))
        return errors
    code = getattr(detail, "code", None) or "invalid"
    return [{"field": prefix or None, "code": str(code), "message": str(detail)}]


def validation_problem(detail: Any, *, title: str = "Request is invalid.") -> dict[str, Any]:
    errors = _flatten_validation_errors(detail)
    count = len(errors)
    return problem(
        status=400,
        type_="/problems/validation-error",
        title=title,
        detail=f"{count} field{'s' if count != 1 else ''} failed validation.",
        errors=errors,
    )


def _problem_for(exc: Exception) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The problem body and extra headers for a known exception; None for an unknown one."""
    if isinstance(exc, DomainError):
        return (
            problem(
                status=exc.status,
                type_=exc.type,
                title=exc.title,
                detail=exc.detail or str(exc),
                **exc.extra,
            ),
            exc.headers(),
        )
    if isinstance(exc, drf.ValidationError):
        return validation_problem(exc.detail), {}
    if isinstance(exc, drf.ParseError):
        return (
            problem(
                status=400,
                type_="/problems/malformed-request",
                title="Request body is not valid JSON.",
                detail=str(exc.detail),
            ),
            {},
        )
    if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        return (
            problem(
                status=401,
                type_="/problems/not-authenticated",
                title="Authentication required.",
                detail=str(exc.detail),
            ),
            {},
        )
    if isinstance(exc, drf.Throttled):
        # DRF sets `wait` in Throttled.__init__; its stubs do not declare the attribute.
        wait = max(1, int(exc.wait or 1))  # type: ignore[attr-defined]
        return (
            problem(
                status=429,
                type_="/problems/rate-limited",
                title="Too many requests.",
                detail=f"Rate limit exceeded. Try again in {wait} seconds.",
            ),
            {"Retry-After": str(wait)},
        )
    if isinstance(exc, drf.APIException):
        return problem(status=exc.status_code, detail=str(exc.detail)), {}
    if isinstance(exc, RequestDataTooBig):
        return problem(status=413, detail="The request body exceeds 1 MiB."), {}
    if isinstance(exc, Http404):
        return problem(status=404, detail="No resource exists at this URL."), {}
    if isinstance(exc, DjangoPermissionDenied):
        return problem(status=403, detail="You do not have permission to do this."), {}
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("database unavailable: %s", exc.__class__.__name__)
        unavailable = ServiceUnavailable()
        return _problem_for(unavailable)
    return None


def problem_body(exc: DomainError | drf.APIException) -> dict[str, Any]:
    """The problem body `exc` renders as, for answers that embed problems (bulk results)."""
    found = _problem_for(exc)
    if found is None:  # every DomainError and APIException has one; this keeps mypy honest
        raise TypeError(f"no problem for {exc!r}")
    return found[0]


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: DRF's default first (rollback, WWW-Authenticate), then reshape."""
    # Imported here: rest_framework.views imports the authentication classes at import time, and
    # those import this module, so a top-level import would be circular.
    from rest_framework.views import exception_handler as drf_exception_handler
    from rest_framework.views import set_rollback

    response = drf_exception_handler(exc, context)
    found = _problem_for(exc)
    if found is None:
        if isinstance(exc, DatabaseError):
            logger.exception("database error")
        return None  # unknown: Django's 500 path logs it and ProblemResponseMiddleware shapes it
    body, headers = found
    if response is None:
        # Not a DRF exception: DRF did not roll back for us.
        set_rollback()
        response = Response(status=body["status"])
    response.data = body
    response.status_code = body["status"]
    for name, value in headers.items():
        response[name] = value
    response.content_type = PROBLEM_CONTENT_TYPE
    request = context.get("request")
    if request is not None:
        # Problems are JSON whatever the view renders on success (the docs view renders HTML).
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = PROBLEM_CONTENT_TYPE
    return response


def problem_for_exception(exc: Exception) -> HttpResponse | None:
    """For middleware: a problem response for a known exception raised outside DRF views."""
    found = _problem_for(exc)
    if found is None:
        return None
    body, headers = found
    return problem_response(body, headers)
