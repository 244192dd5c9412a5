"""The authorization matrix as the contract publishes it, and what it expects of each subject.

openapi.yaml gives every operation an `x-permission`: a permission of the matrix, or
`authenticated` (any logged-in user, on their own things), or `public`. Its info.description
holds the role x permission table. Both are read from the schema Schemathesis runs on, so the
check follows the contract as it is, not a copy of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

AUTHENTICATED = "authenticated"
PUBLIC = "public"
ROLES = ("owner", "editor", "viewer")
_ROW = re.compile(r"^\s*\|\s*`([a-z]+:[a-z]+)`\s*\|(.*)$")


def permission_of(operation: Any) -> str:
    value = operation.definition.raw.get("x-permission")
    if not isinstance(value, str) or not value:
        raise AssertionError(f"{operation.label} has no x-permission in the contract")
    return value


@cache
def table(description: str) -> dict[str, frozenset[str]]:
    """Permission -> the roles holding it, from the table in the contract's description."""
    header = next(
        (line for line in description.splitlines() if re.match(r"^\s*\|\s*Permission\s*\|", line)),
        None,
    )
    if header is None:
        raise AssertionError("the contract's description has no role x permission table")
    columns = [cell.strip() for cell in header.strip().strip("|").split("|")]
    holders: dict[str, frozenset[str]] = {}
    lines = description.splitlines()
    start = lines.index(header)
    # The table's own rows only: it ends at the first line that is not one (the description
    # has other tables, the access-token scopes among them).
    end = next((i for i in range(start, len(lines)) if not lines[i].strip().startswith("|")), None)
    for line in lines[start:end]:
        row = _ROW.match(line)
        if row is None:
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        holders[row.group(1)] = frozenset(
            role for role in ROLES if cells[columns.index(role)] == "yes"
        )
    return holders


def holders_of(operation: Any, permission: str) -> frozenset[str]:
    matrix = table(operation.schema.raw_schema["info"]["description"])
    if permission not in matrix:
        raise AssertionError(f"{operation.label}: {permission} is not in the contract's table")
    return matrix[permission]


@dataclass(frozen=True)
class Subject:
    """Someone other than the owner, as the matrix sees them in a shared project."""

    name: str
    label: str | None  # the run's account (sharing.py); None: no token at all
    role: str | None  # their role in every project A shares; None: not a member
    # None: they log in (a JWT). Else one of their personal access tokens: with every scope
    # ("all"), every read scope ("read"), or every scope but those the operation takes
    # ("lacking", refused with insufficient_scope wherever it goes).
    scopes: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.label is None

    def stance(self, holders: frozenset[str]) -> str:
        """What the matrix makes of them for a permission: `holder` (the owner's answer),
        `lacking` (403 naming it), `outsider` (a missing id's answer) or `anonymous` (401)."""
        if self.anonymous:
            return "anonymous"
        if self.role is None:
            return "outsider"
        return "holder" if self.role in holders else "lacking"


EDITOR = Subject("editor", "E", "editor")
VIEWER = Subject("viewer", "V", "viewer")
NON_MEMBER = Subject("non-member", "B", None)
REMOVED = Subject("removed", "R", None)
INVITED = Subject("invited", "I", None)
ANONYMOUS = Subject("anonymous", None, None)
# Tokens: a token acts as its user, so the role decides as for a login (the narrower wins);
# a scope the token lacks is refused before anything else.
EDITOR_TOKEN = Subject("editor's token", "E", "editor", "all")
VIEWER_READ_TOKEN = Subject("viewer's read token", "V", "viewer", "read")
NON_MEMBER_TOKEN = Subject("non-member's token", "B", None, "all")
SCOPED_OUT = Subject("token without the scope", "T", None, "lacking")
SUBJECTS = (
    EDITOR,
    VIEWER,
    NON_MEMBER,
    REMOVED,
    INVITED,
    ANONYMOUS,
    EDITOR_TOKEN,
    VIEWER_READ_TOKEN,
    NON_MEMBER_TOKEN,
    SCOPED_OUT,
)
TOKEN_SCHEME = "accessToken"


def token_alternatives(operation: Any) -> list[frozenset[str]]:
    """The scope sets any one of which lets a token call the operation (its `security`)."""
    raw = operation.schema.raw_schema
    definition = raw["paths"][operation.path][operation.method.lower()]
    requirements = definition.get("security", raw.get("security")) or []
    return [
        frozenset(requirement[TOKEN_SCHEME])
        for requirement in requirements
        if list(requirement) == [TOKEN_SCHEME]
    ]


def all_scopes(operation: Any) -> frozenset[str]:
    return frozenset(operation.schema.raw_schema["components"]["schemas"]["Scope"]["enum"])


def scopes_of(subject: Subject, operation: Any) -> frozenset[str] | None:
    """The scopes of the subject's token for this operation; None for a login."""
    everything = all_scopes(operation)
    if subject.scopes is None:
        return None
    if subject.scopes == "all":
        return everything
    if subject.scopes == "read":
        return frozenset(scope for scope in everything if scope.endswith(":read"))
    taken = {scope for scopes in token_alternatives(operation) for scope in scopes}
    return everything - taken
