"""drf-spectacular annotations of the accounts views (see core/schema.py)."""

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import F, extend_schema

from taskapi.accounts.errors import InvalidCredentials, InvalidRefreshToken
from taskapi.accounts.serializers import (
    ChangePasswordIn,
    DeleteAccountIn,
    LoginIn,
    RefreshIn,
    RegisterIn,
    TokenPairOut,
    UserOut,
)
from taskapi.core.schema import (
    NO_BODY,
    NOT_AUTHENTICATED,
    REQUEST_ID,
    json_response,
    problem_responses,
    problem_schema,
)


def _auth_operation(operation_id: str, **kwargs: Any) -> Callable[[F], F]:
    return extend_schema(
        operation_id=operation_id, tags=["auth"], parameters=[REQUEST_ID], **kwargs
    )


register = _auth_operation(
    "authRegister",
    request=RegisterIn,
    responses={
        **json_response(UserOut, 201),
        **problem_responses(400, 413, 415, 429, 503),
    },
)

login = _auth_operation(
    "authLogin",
    request=LoginIn,
    responses={
        **json_response(TokenPairOut),
        **problem_responses(
            400, 401, 413, 415, 429, 503, status_401=problem_schema(401, InvalidCredentials.type)
        ),
    },
)

refresh = _auth_operation(
    "authRefresh",
    request=RefreshIn,
    responses={
        **json_response(TokenPairOut),
        **problem_responses(
            400, 401, 413, 415, 503, status_401=problem_schema(401, InvalidRefreshToken.type)
        ),
    },
)

logout = _auth_operation(
    "authLogout",
    request=RefreshIn,
    responses={
        204: NO_BODY,
        **problem_responses(
            400,
            401,
            413,
            415,
            503,
            status_401=problem_schema(401, NOT_AUTHENTICATED, InvalidRefreshToken.type),
        ),
    },
)

me = _auth_operation("authMe", responses={**json_response(UserOut), **problem_responses(401, 503)})

delete_account = _auth_operation(
    "authDeleteAccount",
    request=DeleteAccountIn,
    responses={204: NO_BODY, **problem_responses(400, 401, 413, 415, 503)},
)

change_password = _auth_operation(
    "authChangePassword",
    request=ChangePasswordIn,
    responses={204: NO_BODY, **problem_responses(400, 401, 413, 415, 503)},
)
