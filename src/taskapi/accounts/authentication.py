"""Bearer access tokens, checked without a database query per request.

The token's signature, type, expiry and pinned algorithm are simplejwt's AccessToken checks;
its `ver` claim must equal the user's current token_version, read from the cache
(token_versions.py), so a password change or account deletion ends it at once.
"""

from dataclasses import dataclass
from typing import NoReturn

from django.http import HttpRequest
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from taskapi.accounts.errors import BEARER_CHALLENGE, INVALID_TOKEN_CHALLENGE
from taskapi.accounts.token_versions import token_version_get
from taskapi.accounts.tokens import VERSION_CLAIM

# Set on the request when a token was given and refused: DRF builds the WWW-Authenticate
# header later, from a fresh authenticator instance, so the request is what carries it over.
_REFUSAL = "_bearer_refusal"

INVALID = "The access token is invalid."
EXPIRED = "The access token has expired."
REVOKED = "The access token has been revoked."
MAX_ID = 2**63 - 1


def _http_request(request: Request | HttpRequest) -> HttpRequest:
    return getattr(request, "_request", request)


@dataclass(frozen=True)
class TokenUser:
    """Who the access token says is calling. Views that need the User row load it by id."""

    id: int
    # A personal access token's scopes and id (taskapi.access_tokens); None for a login's JWT,
    # which may do whatever its user may.
    scopes: frozenset[str] | None = None
    token_id: int | None = None
    is_authenticated = True
    is_anonymous = False
    is_active = True

    @property
    def pk(self) -> int:
        return self.id

    def __str__(self) -> str:
        return f"user {self.id}"


class AccessTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[TokenUser, object] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.strip():
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != "bearer":
            self._refuse(request, INVALID)
        try:
            token = AccessToken(parts[1])
            user_id = int(token[jwt_settings.USER_ID_CLAIM])
            version = token[VERSION_CLAIM]
        except ExpiredTokenError:
            self._refuse(request, EXPIRED)
        except (TokenError, KeyError, TypeError, ValueError):
            self._refuse(request, INVALID)
        if not isinstance(version, int) or isinstance(version, bool):
            self._refuse(request, INVALID)
        if not 0 < user_id <= MAX_ID:  # a 64-bit key: larger would overflow the query, a 500
            self._refuse(request, INVALID)
        if token_version_get(user_id=user_id) != version:
            self._refuse(request, REVOKED)
        return TokenUser(id=user_id), token

    def _refuse(self, request: Request, description: str) -> NoReturn:
        setattr(_http_request(request), _REFUSAL, description)
        raise AuthenticationFailed(description, code="invalid_token")

    def authenticate_header(self, request: Request) -> str:
        # RFC 6750 section 3: no error code when no token was given.
        description = getattr(_http_request(request), _REFUSAL, None)
        if description is None:
            return BEARER_CHALLENGE
        return f'{INVALID_TOKEN_CHALLENGE}, error_description="{description}"'
