"""drf-spectacular annotations of the access-token views and of bearer authentication (see
core/schema.py)."""

from collections.abc import Callable
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import F, OpenApiParameter, extend_schema

from taskapi.access_tokens.scopes import SCHEME, scope_table
from taskapi.access_tokens.serializers import (
    TokenCreateIn,
    TokenListOut,
    TokenOut,
    TokenWithSecretOut,
)
from taskapi.core.errors import PROBLEM_CONTENT_TYPE
from taskapi.core.schema import (
    NO_BODY,
    PERMISSION_DENIED,
    RATE_LIMITED,
    REQUEST_ID,
    json_response,
    problem_responses,
    problem_schema,
)

JWT_SCHEME = "bearerAuth"


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = "taskapi.access_tokens.authentication.BearerAuthentication"
    name = [JWT_SCHEME, SCHEME]

    def get_security_definition(self, auto_schema: AutoSchema) -> list[dict[str, str]]:
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            {"type": "http", "scheme": "bearer", "bearerFormat": "cta_pat"},
        ]

    def get_security_requirement(self, auto_schema: AutoSchema) -> list[dict[str, list[str]]]:
        # A token's scopes are the contract's (scopes.py): generated from it, this shows that
        # each view is the operation the contract names, which is what the server looks up.
        key = (auto_schema.method.upper(), auto_schema.get_operation_id())
        alternatives = scope_table().operations.get(key, ())
        return [{JWT_SCHEME: []}, *({SCHEME: sorted(scopes)} for scopes in alternatives)]


def token_refusals(result: dict[str, Any], **_: Any) -> dict[str, Any]:
    """Postprocessing hook: every operation that takes a login can refuse a token (403), and
    every one a token may call can hold it to its rate limit (429)."""
    refused = {"403": PERMISSION_DENIED, "429": problem_schema(429, RATE_LIMITED)}
    for item in result.get("paths", {}).values():
        for operation in item.values():
            schemes = {
                name for requirement in operation.get("security") or [] for name in requirement
            }
            if JWT_SCHEME not in schemes:
                continue
            for status in ("403", "429") if SCHEME in schemes else ("403",):
                operation["responses"].setdefault(
                    status,
                    {
                        "description": "",
                        "content": {PROBLEM_CONTENT_TYPE: {"schema": refused[status]}},
                    },
                )
    return result


TOKEN_ID = OpenApiParameter(
    "token_id", {"type": "integer", "format": "int64", "minimum": 1}, OpenApiParameter.PATH
)


def _operation(
    operation_id: str, parameters: list[OpenApiParameter], **kwargs: Any
) -> Callable[[F], F]:
    return extend_schema(
        operation_id=operation_id, tags=["auth"], parameters=[*parameters, REQUEST_ID], **kwargs
    )


token_list = _operation(
    "tokenList", [], responses={**json_response(TokenListOut), **problem_responses(401, 503)}
)

token_create = _operation(
    "tokenCreate",
    [],
    request=TokenCreateIn,
    responses={
        **json_response(TokenWithSecretOut, 201),
        **problem_responses(400, 401, 413, 415, 503),
    },
)

token_get = _operation(
    "tokenGet",
    [TOKEN_ID],
    responses={**json_response(TokenOut), **problem_responses(401, 404, 503)},
)

token_delete = _operation(
    "tokenDelete",
    [TOKEN_ID],
    responses={204: NO_BODY, **problem_responses(401, 404, 503)},
)
