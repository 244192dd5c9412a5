"""The type of a request that authentication and IsAuthenticated let through.

DRF's stubs say `request.user` is the user model or AnonymousUser. Neither is what an
authenticated view sees here: the bearer authenticator (accounts/authentication.py) sets a light
TokenUser that carries only the id, and IsAuthenticated (the default permission) refuses
anonymous callers before the view runs. Views behind that permission annotate their request as
AuthenticatedRequest, so `request.user` passes where selectors and services want a user, with
nothing done at run time (the class is never instantiated; DRF's Request is what arrives).
Views that allow anonymous callers keep `Request`.
"""

from typing import Protocol

from rest_framework.request import Request


class AuthenticatedUser(Protocol):
    """Who an authenticated request comes from: anything with an integer id (the access
    token's TokenUser, or a User row when a test forces authentication)."""

    id: int


class AuthenticatedRequest(Request):
    # What authentication actually sets. The stubs' `User | AnonymousUser` has no room for it
    # (a TokenUser is neither), so mypy refuses the redeclaration: hence the ignore.
    user: AuthenticatedUser  # type: ignore[assignment]
