from taskapi.core.errors import FieldsInvalid, NotFound, PermissionDenied

# What the problem's `permission` names when an operation takes no token at all.
LOGIN_SESSION = "session"


class AccessTokenNotFound(NotFound):
    detail = "No access token exists at this URL."


class AccessTokenLimitReached(FieldsInvalid):
    field = None
    code = "limit"
    message = "You have the most access tokens allowed (50). Delete one first."


class InsufficientScope(PermissionDenied):
    """An access token without the scope the operation needs: RFC 6750 §3.1's
    insufficient_scope, with the problem of a member whose role lacks a permission, and
    `scope` naming what would do (`permission` too, so a client that reads one field of a 403
    reads the same thing)."""

    def __init__(self, scope: str | None) -> None:
        if scope is None:
            super().__init__(LOGIN_SESSION)
            self.detail = "An access token cannot do this: log in with your password."
        else:
            super().__init__(scope)
            self.detail = f"This access token lacks the scope {scope}."
            self.extra["scope"] = scope
        self.scope = scope

    def headers(self) -> dict[str, str]:
        challenge = (
            f'Bearer realm="api", error="insufficient_scope", error_description="{self.detail}"'
        )
        if self.scope is not None:
            challenge += f', scope="{self.scope}"'
        return {"WWW-Authenticate": challenge}
