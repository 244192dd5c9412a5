"""The contract publishes the authorization matrix the server enforces (issue 26).

openapi.yaml names what each operation needs (`x-permission`) and carries the role x permission
table in its description; taskapi.projects.policy.PERMISSIONS is the table the server enforces.
These tests hold the three together, so none of them can change alone, and hold each operation's
documented refusals to what the matrix makes reachable: a 403 only where some role lacks the
permission, a 404 only where the request names a project or a task.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import yaml

from tests.support.servers import REPO

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
ROLES = ("owner", "editor", "viewer")
NOT_IN_THE_MATRIX = ("authenticated", "public")
TABLE_HEADER = ["Permission", "owner", "editor", "viewer", "Operations"]
PERMISSION_DENIED = {"$ref": "#/components/responses/PermissionDenied"}
TOKEN_REFUSED = {"$ref": "#/components/responses/TokenRefused"}
NOT_FOUND = {"$ref": "#/components/responses/NotFound"}
# Operations whose refusal by role is not the operation's own 403 (none today: taskBulk
# authorizes each sub-operation on its own, and a refusal is the whole call's 403).
AUTHORIZED_PER_SUB_OPERATION: frozenset[str] = frozenset()


@cache
def contract() -> dict[str, Any]:
    return yaml.safe_load((REPO / "openapi.yaml").read_text())


def operations() -> list[tuple[str, str, dict[str, Any], list[dict[str, Any]]]]:
    """(operationId, "METHOD /path", definition, parameters) for every operation under paths,
    the path item's parameters and the operation's own, resolved."""
    spec = contract()
    found = []
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            definition = item.get(method)
            if definition is None:
                continue
            parameters = [
                resolve(parameter)
                for parameter in [*item.get("parameters", []), *definition.get("parameters", [])]
            ]
            found.append(
                (definition["operationId"], f"{method.upper()} {path}", definition, parameters)
            )
    return found


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = contract()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


@cache
def published_table() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """The role x permission table of info.description: permission -> (the roles that hold it,
    the operations its row names)."""
    lines = contract()["info"]["description"].splitlines()
    starts = [i for i, line in enumerate(lines) if cells(line) == TABLE_HEADER]
    assert len(starts) == 1, f"expected one table headed {' | '.join(TABLE_HEADER)}"
    table: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    for line in lines[starts[0] + 2 :]:
        if not line.strip().startswith("|"):
            break
        permission, *marks, covered = cells(line)
        name = permission.strip("`")
        assert name not in table, f"{name} has two rows"
        assert set(marks) <= {"yes", "no"}, f"{name}: each role's cell is yes or no, not {marks}"
        roles = frozenset(role for role, mark in zip(ROLES, marks, strict=True) if mark == "yes")
        # Backquoted camelCase names are operationIds; `409` and the like are not.
        named = frozenset(re.findall(r"`([a-z]+[A-Z][A-Za-z]*)`", covered))
        table[name] = (roles, named)
    assert table, "the role x permission table has no rows"
    return table


def matrix() -> dict[str, frozenset[str]]:
    return {name: roles for name, (roles, _) in published_table().items()}


def test_every_operation_names_a_known_permission_or_authenticated_or_public():
    known = set(matrix()) | set(NOT_IN_THE_MATRIX)

    wrong = [
        f"{label} ({operation_id}): {definition.get('x-permission')!r}"
        for operation_id, label, definition, _ in operations()
        if definition.get("x-permission") not in known
    ]

    assert not wrong, f"x-permission missing or unknown (known: {sorted(known)}): {wrong}"


def test_the_published_matrix_is_the_one_the_policy_enforces():
    from taskapi.projects.policy import PERMISSIONS

    enforced = {
        str(name): frozenset(str(role) for role in roles) for name, roles in PERMISSIONS.items()
    }

    assert matrix() == enforced


def test_each_row_of_the_table_names_exactly_the_operations_that_need_its_permission():
    needed: dict[str, set[str]] = {name: set() for name in matrix()}
    for operation_id, _, definition, _ in operations():
        if definition.get("x-permission") in needed:
            needed[definition["x-permission"]].add(operation_id)

    published = {name: set(named) for name, (_, named) in published_table().items()}

    assert published == needed


def refused_whole(operation_id: str, permission: str | None) -> bool:
    """Whether a member can be refused this operation for their role: some role lacks its
    permission, and the refusal is the answer to the call rather than one of its results."""
    roles = matrix().get(permission or "")
    return (
        roles is not None
        and roles != frozenset(ROLES)
        and operation_id not in AUTHORIZED_PER_SUB_OPERATION
    )


def test_a_403_is_documented_exactly_where_a_members_role_can_lack_the_permission():
    # Elsewhere, every operation that needs a login answers an access token without the scope
    # with the same problem (TokenRefused: its `scope` says which); a public one never a 403.
    wrong = []
    for operation_id, label, definition, _ in operations():
        documented = definition["responses"].get("403")
        if refused_whole(operation_id, definition.get("x-permission")):
            expected = PERMISSION_DENIED
        elif definition.get("x-permission") != "public":
            expected = TOKEN_REFUSED
        else:
            expected = None
        if documented != expected:
            wrong.append(f"{label} ({operation_id}) needs 403 -> {expected}, has {documented}")

    assert not wrong, "\n".join(wrong)


def test_the_permission_denied_problem_names_the_permission_and_its_examples_are_refusable():
    response = resolve(PERMISSION_DENIED)
    media = response["content"]["application/problem+json"]
    problem = resolve(media["schema"])
    narrowed = next(part for part in problem["allOf"] if "$ref" not in part)
    refusable = {name for name, roles in matrix().items() if roles != frozenset(ROLES)}

    assert narrowed["properties"]["type"]["enum"] == ["/problems/permission-denied"]
    assert narrowed["properties"]["status"]["enum"] == [403]
    assert "permission" in narrowed["required"]
    assert narrowed["properties"]["permission"]["type"] == "string"
    scopes = set(contract()["components"]["schemas"]["Scope"]["enum"])
    for example in media["examples"].values():
        body = resolve(example)["value"]
        if "scope" in body:  # an access token without the scope: `permission` names it too
            assert body["permission"] == body["scope"] and body["scope"] in scopes, body
        else:
            assert body["permission"] in refusable, body
        assert body["permission"] in body["detail"], body


def names_a_project_or_task(parameters: list[dict[str, Any]]) -> bool:
    return any(
        parameter["in"] == "path"
        or (parameter["in"] == "query" and parameter["name"] == "project_id")
        for parameter in parameters
    )


def test_a_404_is_documented_exactly_where_a_permission_operation_names_a_project_or_task():
    wrong = []
    for operation_id, label, definition, parameters in operations():
        if definition.get("x-permission") not in matrix():
            continue
        documented = definition["responses"].get("404")
        if names_a_project_or_task(parameters):
            if documented != NOT_FOUND:
                wrong.append(f"{label} ({operation_id}) needs 404 -> NotFound, has {documented}")
        elif documented is not None:
            wrong.append(f"{label} ({operation_id}) names no project or task but documents 404")

    assert not wrong, "\n".join(wrong)


def test_public_operations_and_only_they_need_no_token():
    wrong = [
        f"{label} ({operation_id}): x-permission {definition.get('x-permission')!r}, "
        f"security {definition.get('security', 'inherited')!r}"
        for operation_id, label, definition, _ in operations()
        if (definition.get("x-permission") == "public") != (definition.get("security") == [])
    ]

    assert not wrong, "\n".join(wrong)


def test_a_bulk_call_refused_for_the_callers_role_is_a_documented_403_of_the_call():
    """A result's status is a closed enum (400, 404, 409, 412): a 403 there would be a major
    change. A refusal by role is the call's answer instead, documented as a new status of the
    operation (minor), and the results' enum stays as released."""
    bulk = contract()["paths"]["/tasks/bulk/"]["post"]
    result = contract()["components"]["schemas"]["TaskBulkProblemResult"]

    assert bulk["responses"]["403"] == {"$ref": "#/components/responses/PermissionDenied"}
    assert 403 not in result["properties"]["status"]["enum"]
    assert "nothing is applied" in bulk["description"]
