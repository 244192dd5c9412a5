"""The schema drf-spectacular generates from the code says what openapi.yaml says.

Differences are allowed only where contract/known_differences.yaml lists them with a reason, and
each listed one must still occur. The check itself is proven against altered copies of the
contract: each alteration must be reported, naming the operation, location and field.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer
from openapi_spec_validator import validate

from contract.spectacular_check import KnownDifference, check, differences, load_known

HERE = Path(__file__).resolve().parent
CONTRACT = HERE.parent / "openapi.yaml"
KNOWN = HERE / "known_differences.yaml"


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    return yaml.safe_load(CONTRACT.read_text())


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    # Through the renderer, as `manage.py spectacular` writes it: plain YAML types only.
    return yaml.safe_load(OpenApiYamlRenderer().render(schema))


@pytest.fixture(scope="module")
def known() -> list[KnownDifference]:
    return load_known(KNOWN)


def test_generated_schema_is_valid_openapi_3_1(generated):
    assert generated["openapi"] == "3.1.0"
    validate(generated)


def test_generated_schema_matches_the_contract_but_for_the_known_differences(
    contract, generated, known
):
    outcome = check(contract, generated, known)

    assert outcome.ok, outcome.report()


def test_every_known_difference_gives_a_reason(known):
    assert known
    assert all(len(k.reason.split()) >= 8 for k in known)


def test_a_known_difference_that_no_longer_occurs_fails_the_check(contract, generated, known):
    fixed = KnownDifference(
        operations=("GET /tasks/",),
        location="parameter query page_size",
        field="",
        what="maximum",
        contract=100,
        generated=1000,
        reason="A difference that does not exist.",
    )

    outcome = check(contract, generated, [*known, fixed])

    assert not outcome.ok
    assert outcome.stale == [fixed]
    assert "GET /tasks/ | parameter query page_size | : maximum" in outcome.report()


def test_equivalent_spellings_are_not_differences():
    nullable_30 = {"type": "string", "format": "date", "nullable": True}
    nullable_31 = {"anyOf": [{"$ref": "#/components/schemas/Day"}, {"type": "null"}]}
    one = _document({"due": nullable_30, "kind": {"type": "string", "const": "a"}}, {})
    other = _document(
        {"due": nullable_31, "kind": {"type": "string", "enum": ["a"]}},
        {"Day": {"type": "string", "format": "date"}},
    )

    assert differences(one, other) == []


def _document(properties: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    body = {"type": "object", "required": sorted(properties), "properties": properties}
    response = {"description": "ok", "content": {"application/json": {"schema": body}}}
    return {
        "openapi": "3.1.0",
        "paths": {"/things/{id}/": {"get": {"responses": {"200": response}}}},
        "components": {"schemas": schemas},
    }


# --- the check fails on a deliberately altered contract ----------------------------------------


def _schemas(document: dict[str, Any]) -> dict[str, Any]:
    return document["components"]["schemas"]


def _shorter_title(document: dict[str, Any]) -> None:
    _schemas(document)["TaskTitle"]["maxLength"] = 150


def _no_404_on_task_get(document: dict[str, Any]) -> None:
    del document["paths"]["/tasks/{id}/"]["get"]["responses"]["404"]


def _page_size_renamed(document: dict[str, Any]) -> None:
    document["components"]["parameters"]["PageSize"]["name"] = "per_page"


def _completed_at_not_nullable(document: dict[str, Any]) -> None:
    _schemas(document)["Task"]["properties"]["completed_at"]["type"] = "string"


def _extra_priority(document: dict[str, Any]) -> None:
    _schemas(document)["Priority"]["enum"].append("urgent")


def _description_required(document: dict[str, Any]) -> None:
    _schemas(document)["TaskCreate"]["required"].append("description")


def _created_at_writable(document: dict[str, Any]) -> None:
    del _schemas(document)["Task"]["properties"]["created_at"]["readOnly"]


def _due_date_a_datetime(document: dict[str, Any]) -> None:
    _schemas(document)["Task"]["properties"]["due_date"]["format"] = "date-time"


def _register_needs_a_token(document: dict[str, Any]) -> None:
    del document["paths"]["/auth/register/"]["post"]["security"]


def _different_problem_type(document: dict[str, Any]) -> None:
    precondition = _schemas(document)["PreconditionFailedProblem"]
    precondition["allOf"][1]["properties"]["type"]["enum"] = ["/problems/stale"]


ALTERATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "maxLength changed": (
        _shorter_title,
        "POST /tasks/ | request application/json | title: maxLength: contract 150, generated 200",
    ),
    "response status dropped": (
        _no_404_on_task_get,
        "GET /tasks/{}/ | response 404 | exists: contract False, generated True",
    ),
    "parameter renamed": (
        _page_size_renamed,
        "GET /tasks/ | parameter query per_page | exists: contract True, generated False",
    ),
    "nullable flipped": (
        _completed_at_not_nullable,
        "GET /tasks/ | response 200 application/json | results[].completed_at: nullable: "
        "contract '<absent>', generated True",
    ),
    "enum extended": (
        _extra_priority,
        "PATCH /tasks/{}/ | request application/json | priority: enum: "
        "contract ['high', 'low', 'medium', 'urgent'], generated ['high', 'low', 'medium']",
    ),
    "required added": (
        _description_required,
        "POST /tasks/ | request application/json | required: "
        "contract ['description', 'title'], generated ['title']",
    ),
    "readOnly dropped": (
        _created_at_writable,
        "GET /tasks/{}/ | response 200 application/json | created_at: readOnly: "
        "contract '<absent>', generated True",
    ),
    "format changed": (
        _due_date_a_datetime,
        "PUT /tasks/{}/ | response 200 application/json | due_date: format: "
        "contract 'date-time', generated 'date'",
    ),
    "security changed": (
        _register_needs_a_token,
        "POST /auth/register/ | operation | security: "
        "contract ['bearerAuth'], generated ['anonymous']",
    ),
    "problem type changed": (
        _different_problem_type,
        "PATCH /tasks/{}/ | response 412 application/problem+json | type: enum: "
        "contract ['/problems/stale'], generated ['/problems/precondition-failed']",
    ),
}


@pytest.mark.parametrize("alteration", ALTERATIONS, ids=list(ALTERATIONS))
def test_the_check_fails_on_an_altered_contract_naming_the_path_and_field(
    alteration, contract, generated, known
):
    alter, expected_line = ALTERATIONS[alteration]
    changed = copy.deepcopy(contract)
    alter(changed)

    outcome = check(changed, generated, known)

    assert not outcome.ok
    assert f"  {expected_line}" in outcome.report().splitlines()
