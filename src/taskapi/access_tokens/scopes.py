"""The scopes each operation takes from an access token, read from openapi.yaml, and the
permission that enforces them: the contract and the server cannot drift.

Every operation that needs a login lists its security requirements: `bearerAuth: []` (a
login's JWT, which may do everything its user may) and, for an operation a token may call, one
`accessToken: [<scope>]` per scope that suffices (a resource's `write` scope also reads it):

    security:
      - bearerAuth: []
      - accessToken: [tasks:read]
      - accessToken: [tasks:write]

An operation without an `accessToken` alternative refuses every token (managing tokens, the
password, logging out, deleting the account). The check runs after authentication and before
the view, so a token without the scope learns nothing of the objects it names (no 404 first).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from rest_framework.permissions import BasePermission

from taskapi.access_tokens.errors import InsufficientScope
from taskapi.core.contract import contract_document

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

SCHEME = "accessToken"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
# Scope sets any one of which lets a token call an operation; () refuses every token.
Alternatives = tuple[frozenset[str], ...]


def alternatives_of(operation: dict[str, Any], document: dict[str, Any]) -> Alternatives:
    requirements = operation.get("security", document.get("security")) or []
    return tuple(
        frozenset(requirement[SCHEME])
        for requirement in requirements
        if list(requirement) == [SCHEME]
    )


def by_route(document: dict[str, Any]) -> dict[tuple[str, str], Alternatives]:
    """(method, route name) -> alternatives. Route names are operationIds (the URLconfs say so);
    a route serving several methods is named after one of them, so each method of its path is
    keyed under every name of that path."""
    operations: dict[tuple[str, str], Alternatives] = {}
    names_of_path: dict[str, list[str]] = {}
    for path, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            operations[(method.upper(), path)] = alternatives_of(operation, document)
            names_of_path.setdefault(path, []).append(operation["operationId"])
    table = {}
    for (method, path), alternatives in operations.items():
        for name in names_of_path[path]:
            table[(method, name)] = alternatives
    return table


@dataclass(frozen=True)
class ScopeTable:
    operations: dict[tuple[str, str], Alternatives]
    names: frozenset[str]  # every route name the contract knows


@cache
def scope_table() -> ScopeTable:
    """The contract's table, parsed once per process (at its first token request)."""
    operations = by_route(contract_document())
    return ScopeTable(operations, frozenset(name for _, name in operations))


def needed(alternatives: Alternatives) -> str | None:
    """The scope a refusal names: the narrowest that would do (the first listed)."""
    return min(alternatives[0]) if alternatives else None


class TokenScopes(BasePermission):
    """An access token passes only where the contract lists one of its scopes; a login's JWT
    (no `scopes` on its user) is not this permission's concern."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        granted: frozenset[str] | None = getattr(request.user, "scopes", None)
        if granted is None:
            return True
        match = request._request.resolver_match
        name = match.url_name if match else None
        method = "GET" if request.method == "HEAD" else str(request.method)
        table = scope_table()
        alternatives = table.operations.get((method, name or ""))
        if alternatives is None and name in table.names:
            return True  # a method the route does not serve: the view's 405, as for anyone
        if any(alternative <= granted for alternative in alternatives or ()):
            return True
        raise InsufficientScope(needed(alternatives or ()))
