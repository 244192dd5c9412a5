"""The service's own endpoints: health, the contract, and error handlers for the URL resolver."""

import logging
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taskapi.core import schema
from taskapi.core.errors import ServiceUnavailable, problem, problem_response

logger = logging.getLogger(__name__)


class HealthView(APIView):
    """Liveness: answers while the process can serve, without touching the database."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @schema.health_live
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ReadinessView(APIView):
    """Readiness: 200 only when the database answers within a short timeout."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @schema.health_ready
    def get(self, request: Request) -> Response:
        try:
            _check_database()
        except Exception as exc:
            logger.warning("readiness: database check failed: %s", exc.__class__.__name__)
            raise ServiceUnavailable(
                "The database check failed.", checks={"database": "unavailable"}
            ) from None
        return Response({"status": "ok", "checks": {"database": "ok"}})


def _check_database() -> None:
    # SET LOCAL only holds inside a transaction; outside one PostgreSQL ignores it.
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL statement_timeout = 1000")
        cursor.execute("SELECT 1")
        cursor.fetchone()


class ApiDocsView(SpectacularSwaggerView):
    """Swagger UI over the hand-written contract, with assets served from this server, and a
    script of this project's (templates/core/api_docs.js) that folds the contract's long
    description so that Authorize is in reach when the page opens."""

    authentication_classes = []
    permission_classes = [AllowAny]
    http_method_names = ["get", "head"]
    template_name_js = "core/api_docs.js"

    @schema.api_docs  # the parent excludes itself from generated schemas; the contract lists it
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        # drf-spectacular leaves this get() unannotated, and mypy's untyped_calls_exclude does
        # not reach calls through super().
        response: Response = super().get(request, *args, **kwargs)  # type: ignore[no-untyped-call]
        return response


@cache
def _contract_bytes(path: Path) -> bytes:
    return path.read_bytes()


@csrf_exempt  # read-only; any other method gets its 405, not a CSRF 403
def openapi_yaml(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        response = problem_response(
            problem(status=405, detail="This method is not allowed here; see the Allow header.")
        )
        response["Allow"] = "GET, HEAD"
        return response
    return HttpResponse(
        _contract_bytes(Path(settings.CONTRACT_PATH)), content_type="application/yaml"
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return problem_response(problem(status=404, detail="No resource exists at this URL."))


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return problem_response(problem(status=400, detail="The request could not be understood."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return problem_response(problem(status=403, detail="You do not have permission to do this."))


def server_error(request: HttpRequest) -> JsonResponse:
    return problem_response(
        problem(status=500, detail="An unexpected error occurred. It has been logged.")
    )
