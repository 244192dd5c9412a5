"""drf-spectacular annotations shared by every app: problem bodies, X-Request-ID, ids.

The generated schema is not served (openapi.yaml is); contract/test_generated_schema.py compares
it with the contract. Problem bodies are shaped by core/errors.py's handler, not by serializers,
so their schemas are declared here, with the problem types taken from the error classes.
"""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers

from taskapi.core.errors import (
    PROBLEM_CONTENT_TYPE,
    Conflict,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    ServiceUnavailable,
)

Schema = dict[str, Any]

VALIDATION_ERROR = "/problems/validation-error"
MALFORMED_REQUEST = "/problems/malformed-request"
NOT_AUTHENTICATED = "/problems/not-authenticated"
RATE_LIMITED = "/problems/rate-limited"
ABOUT_BLANK = "about:blank"

REQUEST_ID = OpenApiParameter(
    "X-Request-ID",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Your id for this request, echoed in the X-Request-ID response header.",
)


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1})
class IdField(serializers.IntegerField):
    """A server-assigned primary key (a 64-bit auto field)."""


PROBLEM: Schema = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "format": "uri-reference"},
    },
    "additionalProperties": True,
}

FIELD_ERROR: Schema = {
    "type": "object",
    "required": ["field", "code", "message"],
    "properties": {
        "field": {"type": ["string", "null"]},
        "code": {"type": "string"},
        "message": {"type": "string"},
    },
    "additionalProperties": False,
}


def problem_schema(
    status: int, *types: str, extra: Schema | None = None, extra_required: list[str] | None = None
) -> Schema:
    """A problem of one of `types` with this `status`, plus any `extra` members."""
    type_schema = {"const": types[0]} if len(types) == 1 else {"enum": list(types)}
    specific: Schema = {
        "type": "object",
        "properties": {"type": type_schema, "status": {"const": status}, **(extra or {})},
    }
    if extra_required:
        specific["required"] = extra_required
    return {"allOf": [PROBLEM, specific]}


VALIDATION_PROBLEM = problem_schema(
    400,
    VALIDATION_ERROR,
    extra={"errors": {"type": "array", "items": FIELD_ERROR}},
    extra_required=["errors"],
)
# A member whose role lacks the permission (projects/policy.py), or an access token without the
# scope (access_tokens/scopes.py, which adds `scope`): `permission` names what is missing.
PERMISSION_DENIED = problem_schema(
    403,
    PermissionDenied.type,
    extra={"permission": {"type": "string"}, "scope": {"type": "string"}},
    extra_required=["permission"],
)
BAD_REQUEST_PROBLEM: Schema = {
    "anyOf": [VALIDATION_PROBLEM, problem_schema(400, MALFORMED_REQUEST, ABOUT_BLANK)]
}


def problem_responses(*statuses: int, **overrides: Schema) -> dict[Any, OpenApiResponse]:
    """`extend_schema(responses=...)` entries for the common problems of these statuses."""
    common = {
        400: BAD_REQUEST_PROBLEM,
        401: problem_schema(401, NOT_AUTHENTICATED),
        404: problem_schema(404, NotFound.type, ABOUT_BLANK),
        409: problem_schema(409, Conflict.type),
        412: problem_schema(412, PreconditionFailed.type),
        413: problem_schema(413, ABOUT_BLANK),
        415: problem_schema(415, ABOUT_BLANK),
        429: problem_schema(429, RATE_LIMITED),
        503: problem_schema(503, ServiceUnavailable.type),
    }
    result = {}
    for status in statuses:
        schema = overrides.get(f"status_{status}", common.get(status))
        if schema is None:
            raise KeyError(f"no problem schema for status {status}")
        result[(status, PROBLEM_CONTENT_TYPE)] = OpenApiResponse(schema)
    return result


def json_response(response: Any, status: int = 200) -> dict[Any, Any]:
    return {(status, "application/json"): response}


NO_BODY = OpenApiResponse(None)


# --- core's own views ------------------------------------------------------------------------

health_live = extend_schema(
    operation_id="healthLive",
    tags=["health"],
    parameters=[REQUEST_ID],
    responses=json_response(
        {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"type": "string", "const": "ok"}},
        }
    ),
)

health_ready = extend_schema(
    operation_id="healthReady",
    tags=["health"],
    parameters=[REQUEST_ID],
    responses={
        **json_response(
            {
                "type": "object",
                "required": ["status", "checks"],
                "properties": {
                    "status": {"type": "string", "const": "ok"},
                    "checks": {
                        "type": "object",
                        "required": ["database"],
                        "properties": {"database": {"type": "string", "const": "ok"}},
                    },
                },
            }
        ),
        **problem_responses(
            503,
            status_503=problem_schema(
                503,
                ServiceUnavailable.type,
                extra={
                    "checks": {
                        "type": "object",
                        "additionalProperties": {"type": "string", "enum": ["ok", "unavailable"]},
                    }
                },
                extra_required=["checks"],
            ),
        ),
    },
)

api_docs = extend_schema(
    operation_id="apiDocs",
    tags=["health"],
    parameters=[REQUEST_ID],
    responses={(200, "text/html"): OpenApiResponse({"type": "string"})},
)
