"""The operations of openapi.yaml, for tests that must cover every one of them.

Tests derive their cases from the contract, so a new operation gets its cases (or a failing test
that asks for them) without anyone remembering to add it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import yaml

from tests.support.servers import REPO

HTTP_METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # the template: "/tasks/{id}/"
    secured: bool
    has_body: bool
    statuses: tuple[str, ...]

    def url(self, **params: object) -> str:
        """The path with its {parameters} filled in."""
        return re.sub(r"\{([^}]+)\}", lambda match: str(params[match.group(1)]), self.path)


@cache
def contract_operations() -> tuple[Operation, ...]:
    spec = yaml.safe_load((REPO / "openapi.yaml").read_text())
    top_security = spec.get("security") or []
    operations = []
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            definition = item.get(method)
            if definition is None:
                continue
            security = definition.get("security", top_security)
            operations.append(
                Operation(
                    operation_id=definition["operationId"],
                    method=method.upper(),
                    path=path,
                    secured=bool(security) and {} not in security,
                    has_body="requestBody" in definition,
                    statuses=tuple(str(status) for status in definition["responses"]),
                )
            )
    return tuple(operations)
