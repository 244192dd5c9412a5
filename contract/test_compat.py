"""The breaking-change gate (contract/compat.py, `make compat`) fails on what breaks clients.

Every case starts from the same release: a copy of today's openapi.yaml saved in a temporary
contract/released/ as 1.0.0. Each case changes a copy of it (load, mutate, dump), sets
info.version and runs the real gate, redocly diff included, so the cases do not depend on the
released files in the repository. A break must fail with a minor bump (the most a compatible
change could claim) and name the rule that caught it.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract import compat

Document = dict[str, Any]
Change = Callable[[Document], None]
KNOWN_RULES = {rule.name for rule in compat.RULES}


def write(path: Path, document: Document) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100))
    return path


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Document]:
    """contract/released/ holding 1.0.0, a dump of today's openapi.yaml; and that document."""
    released_dir = tmp_path_factory.mktemp("released")
    document = yaml.safe_load(compat.CONTRACT.read_text())
    document["info"]["version"] = "1.0.0"
    write(released_dir / "1.0.0.yaml", document)
    return released_dir, document


def gate(
    release: tuple[Path, Document], tmp_path: Path, change: Change, version: str
) -> compat.Outcome:
    released_dir, base = release
    document = copy.deepcopy(base)
    change(document)
    document["info"]["version"] = version
    outcome = compat.check(
        new=write(tmp_path / "openapi.yaml", document), released_dir=released_dir
    )
    # A rule the table does not list means redocly renamed or added one: the table is stale.
    assert {finding.rule for finding in outcome.findings} <= KNOWN_RULES, compat.render(outcome)
    return outcome


def breaking_rules(outcome: compat.Outcome) -> set[str]:
    return {finding.rule for finding in outcome.findings if finding.impact is compat.Level.MAJOR}


def failed_rules(outcome: compat.Outcome) -> set[str]:
    return {failure.rule for failure in outcome.failures}


# --- the changes ----------------------------------------------------------------------------------


def paths(document: Document) -> Document:
    return document["paths"]


def schemas(document: Document) -> Document:
    return document["components"]["schemas"]


def parameters(document: Document) -> Document:
    return document["components"]["parameters"]


def remove_operation(document: Document) -> None:
    del paths(document)["/tasks/{id}/"]["delete"]


def remove_response_property(document: Document) -> None:
    del schemas(document)["Task"]["properties"]["description"]
    schemas(document)["Task"]["required"].remove("description")


def retype_response_property(document: Document) -> None:
    schemas(document)["Task"]["properties"]["completed"]["type"] = "string"


def retype_request_property(document: Document) -> None:
    schemas(document)["TaskCreate"]["properties"]["completed"]["type"] = "string"


def add_required_request_property(document: Document) -> None:
    schemas(document)["TaskCreate"]["properties"]["project"] = {"type": "string"}
    schemas(document)["TaskCreate"]["required"].append("project")


def add_required_query_parameter(document: Document) -> None:
    paths(document)["/tasks/"]["get"]["parameters"].append(
        {"name": "project", "in": "query", "required": True, "schema": {"type": "string"}}
    )


def remove_request_enum_value(document: Document) -> None:
    parameters(document)["Ordering"]["schema"]["enum"].remove("-updated_at")


def add_response_enum_value(document: Document) -> None:
    # Priority is in Task (a response) too; the contract says response enums are closed.
    schemas(document)["Priority"]["enum"].append("urgent")


def lower_max_length(document: Document) -> None:
    schemas(document)["TaskTitle"]["maxLength"] = 100


def raise_minimum(document: Document) -> None:
    parameters(document)["PageSize"]["schema"]["minimum"] = 5


def remove_response_status(document: Document) -> None:
    del paths(document)["/tasks/{id}/"]["get"]["responses"]["304"]


def secure_login(document: Document) -> None:
    paths(document)["/auth/login/"]["post"]["security"] = [{"bearerAuth": []}]


def secure_health_by_inheritance(document: Document) -> None:
    del paths(document)["/health/"]["get"]["security"]  # now the document's bearerAuth


def rename_path_parameter(document: Document) -> None:
    paths(document)["/tasks/{task_id}/"] = paths(document).pop("/tasks/{id}/")
    parameters(document)["TaskId"]["name"] = "task_id"


def retype_path_parameter(document: Document) -> None:
    parameters(document)["TaskId"]["schema"] = {"type": "string", "format": "uuid"}


def require_a_new_request_body(document: Document) -> None:
    paths(document)["/tasks/{id}/"]["delete"]["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }


def add_optional_property(document: Document) -> None:
    schemas(document)["TaskCreate"]["properties"]["notes"] = {"type": "string"}


def add_operation(document: Document) -> None:
    paths(document)["/tasks/stats/"] = {
        "get": {
            "operationId": "taskStats",
            "summary": "Count your tasks",
            "responses": {
                "200": {
                    "description": "The counts.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    }


def add_optional_parameter(document: Document) -> None:
    paths(document)["/tasks/"]["get"]["parameters"].append(
        {"name": "tag", "in": "query", "required": False, "schema": {"type": "string"}}
    )


def add_response_status(document: Document) -> None:
    responses = paths(document)["/tasks/{id}/"]["delete"]["responses"]
    assert "409" not in responses  # a status the operation does not list yet
    responses["409"] = {"$ref": "#/components/responses/Conflict"}


def add_request_enum_value(document: Document) -> None:
    parameters(document)["Ordering"]["schema"]["enum"].append("title")


def reword_operation(document: Document) -> None:
    operation = paths(document)["/tasks/"]["get"]
    operation["summary"] = "List all of your tasks"
    operation["description"] += " Pages are stable."


def add_named_example(document: Document) -> None:
    examples = paths(document)["/tasks/"]["post"]["requestBody"]["content"]["application/json"]
    examples["examples"]["highPriority"] = {
        "summary": "A high-priority task",
        "value": {"title": "Call the bank", "priority": "high"},
    }


DEPRECATION = {"deprecated": True, "x-deprecated-at": "2027-01-15", "x-sunset": "2027-07-15"}


def deprecate_operation(document: Document) -> None:
    paths(document)["/tasks/{id}/"]["put"].update(DEPRECATION)


def deprecate_query_parameter(document: Document) -> None:
    parameters(document)["Ordering"].update(DEPRECATION)


def change_example_value(document: Document) -> None:
    document["components"]["examples"]["Task"]["value"]["title"] = "Read the notes"


def no_change(document: Document) -> None:
    pass


BREAKS = [
    pytest.param(remove_operation, "operation-removed", id="removed operation"),
    pytest.param(remove_response_property, "property-removed", id="removed response property"),
    pytest.param(retype_response_property, "schema-type-changed", id="response property type"),
    pytest.param(retype_request_property, "schema-type-changed", id="request property type"),
    pytest.param(
        add_required_request_property,
        "required-properties-added",
        id="new required request property",
    ),
    pytest.param(
        add_required_query_parameter,
        "parameter-became-required",
        id="new required query parameter",
    ),
    pytest.param(remove_request_enum_value, "enum-values-removed", id="request enum value removed"),
    pytest.param(add_response_enum_value, "enum-values-added", id="response enum value added"),
    pytest.param(lower_max_length, "schema-constraint-changed", id="maxLength lowered"),
    pytest.param(raise_minimum, "schema-constraint-changed", id="minimum raised"),
    pytest.param(remove_response_status, "response-removed", id="response status removed"),
    pytest.param(secure_login, "security-requirement-changed", id="security added to login"),
    pytest.param(
        secure_health_by_inheritance, "security-now-inherited", id="security added to health"
    ),
    pytest.param(rename_path_parameter, "path-parameter-renamed", id="path parameter renamed"),
    pytest.param(retype_path_parameter, "schema-type-changed", id="path parameter retyped"),
    pytest.param(
        require_a_new_request_body, "request-body-added-required", id="new required request body"
    ),
]

ADDITIONS = [
    pytest.param(add_optional_property, "added", id="new optional property"),
    pytest.param(add_operation, "added", id="new operation"),
    pytest.param(add_optional_parameter, "added", id="new optional parameter"),
    pytest.param(add_response_status, "added", id="new response status"),
    pytest.param(
        add_request_enum_value, "enum-values-added-in-request", id="new request enum value"
    ),
    pytest.param(deprecate_operation, "deprecation-added", id="operation deprecated"),
    pytest.param(deprecate_query_parameter, "deprecation-added", id="query parameter deprecated"),
]

DOCS = [
    pytest.param(reword_operation, "changed", id="summary and description"),
    pytest.param(add_named_example, "docs-addition", id="named example added"),
    pytest.param(change_example_value, "unreported-change", id="example value changed"),
]


# --- the tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "rule"), BREAKS)
def test_a_breaking_change_with_a_minor_bump_fails_and_names_its_rule(
    release: tuple[Path, Document], tmp_path: Path, change: Change, rule: str
) -> None:
    outcome = gate(release, tmp_path, change, "1.1.0")

    assert rule in breaking_rules(outcome), compat.render(outcome)
    assert outcome.level is compat.Level.MAJOR
    assert failed_rules(outcome) == {"version-step"}
    assert "needs info.version 2.0.0" in compat.render(outcome)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(remove_operation, id="removed operation"),
        pytest.param(rename_path_parameter, id="path parameter renamed"),
    ],
)
def test_a_breaking_change_with_a_new_major_version_passes(
    release: tuple[Path, Document], tmp_path: Path, change: Change
) -> None:
    outcome = gate(release, tmp_path, change, "2.0.0")

    assert outcome.level is compat.Level.MAJOR
    assert outcome.ok, compat.render(outcome)


@pytest.mark.parametrize(("change", "rule"), ADDITIONS)
def test_an_additive_change_passes_with_a_minor_bump(
    release: tuple[Path, Document], tmp_path: Path, change: Change, rule: str
) -> None:
    outcome = gate(release, tmp_path, change, "1.1.0")

    assert rule in {finding.rule for finding in outcome.findings}
    assert outcome.level is compat.Level.MINOR
    assert outcome.ok, compat.render(outcome)


@pytest.mark.parametrize(("change", "rule"), ADDITIONS)
def test_an_additive_change_without_a_version_bump_fails(
    release: tuple[Path, Document], tmp_path: Path, change: Change, rule: str
) -> None:
    outcome = gate(release, tmp_path, change, "1.0.0")

    assert outcome.level is compat.Level.MINOR
    # 1.0.0 is released, so this is also an edit of a released contract.
    assert failed_rules(outcome) == {"version-step", "released-immutable"}


@pytest.mark.parametrize(("change", "rule"), DOCS)
def test_a_docs_only_change_passes_with_a_patch_bump(
    release: tuple[Path, Document], tmp_path: Path, change: Change, rule: str
) -> None:
    outcome = gate(release, tmp_path, change, "1.0.1")

    assert rule in {finding.rule for finding in outcome.findings}
    assert outcome.level is compat.Level.PATCH
    assert outcome.ok, compat.render(outcome)


def test_a_docs_only_change_without_a_version_bump_fails(
    release: tuple[Path, Document], tmp_path: Path
) -> None:
    outcome = gate(release, tmp_path, reword_operation, "1.0.0")

    assert outcome.level is compat.Level.PATCH
    assert failed_rules(outcome) == {"version-step", "released-immutable"}


def test_a_version_that_skips_one_fails(release: tuple[Path, Document], tmp_path: Path) -> None:
    outcome = gate(release, tmp_path, add_operation, "1.2.0")

    assert failed_rules(outcome) == {"version-step"}
    assert "needs info.version 1.1.0 or 2.0.0, not 1.2.0" in compat.render(outcome)


def test_a_version_that_went_down_fails(release: tuple[Path, Document], tmp_path: Path) -> None:
    outcome = gate(release, tmp_path, reword_operation, "0.9.0")

    assert failed_rules(outcome) == {"version-step"}


def test_a_new_version_without_a_change_fails(
    release: tuple[Path, Document], tmp_path: Path
) -> None:
    outcome = gate(release, tmp_path, no_change, "1.0.1")

    assert outcome.level is compat.Level.NONE
    assert failed_rules(outcome) == {"version-step"}


def test_a_comment_in_a_released_version_fails(
    release: tuple[Path, Document], tmp_path: Path
) -> None:
    # The same document with other bytes: GET /openapi.yaml would serve a different file.
    released_dir, _ = release
    new = tmp_path / "openapi.yaml"
    new.write_text((released_dir / "1.0.0.yaml").read_text() + "# reviewed\n")

    outcome = compat.check(new=new, released_dir=released_dir)

    assert {finding.rule for finding in outcome.findings} == {"unreported-change"}
    assert outcome.level is compat.Level.PATCH
    assert failed_rules(outcome) == {"released-immutable", "version-step"}


def test_without_a_released_contract_the_gate_says_how_to_release_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = compat.main(["--released-dir", str(tmp_path / "released")])

    assert status == 2
    assert "no released contract in" in capsys.readouterr().err


def test_a_released_file_must_carry_its_own_version(tmp_path: Path) -> None:
    document = yaml.safe_load(compat.CONTRACT.read_text())
    document["info"]["version"] = "1.0.1"
    write(tmp_path / "1.0.0.yaml", document)

    with pytest.raises(compat.CompatError, match=r"1\.0\.0\.yaml has info\.version '1\.0\.1'"):
        compat.check(new=compat.CONTRACT, released_dir=tmp_path)


def test_make_compat_passes_when_todays_contract_is_the_latest_release(tmp_path: Path) -> None:
    text = compat.CONTRACT.read_text()
    version = yaml.safe_load(text)["info"]["version"]
    (tmp_path / f"{version}.yaml").write_text(text)

    # What `make compat` runs, with the released directory swapped for the copy.
    result = subprocess.run(
        [sys.executable, "-m", "contract.compat", "--released-dir", str(tmp_path)],
        cwd=compat.REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "change: none" in result.stdout


def test_base_compares_with_a_given_file_instead_of_the_latest_release(
    release: tuple[Path, Document], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    released_dir, base = release
    document = copy.deepcopy(base)
    remove_operation(document)
    document["info"]["version"] = "1.1.0"
    new = write(tmp_path / "openapi.yaml", document)
    empty = tmp_path / "released"

    status = compat.main(
        ["--base", str(released_dir / "1.0.0.yaml"), "--released-dir", str(empty), str(new)]
    )

    report = capsys.readouterr().out
    assert status == 1
    assert "operation-removed" in report
    assert "FAIL version-step" in report


def test_the_rule_table_names_the_tool_that_checks_each_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert compat.main(["--rules"]) == 0

    table = capsys.readouterr().out.splitlines()
    for rule in compat.RULES:
        row = next(line for line in table if line.split()[0] == rule.name)
        assert rule.checked_by in row


def test_writing_out_the_inherited_security_and_adding_a_token_is_minor(tmp_path: Path) -> None:
    # Redocly rates it "authentication became required"; the gate's second opinion sees that
    # every old credential still passes.
    base = yaml.safe_load(compat.CONTRACT.read_text())
    base["info"]["version"] = "1.0.0"
    del paths(base)["/labels/"]["get"]["security"]  # inherits the document's bearerAuth
    released_dir = tmp_path / "released"
    released_dir.mkdir()
    write(released_dir / "1.0.0.yaml", base)
    document = copy.deepcopy(base)
    document["info"]["version"] = "1.1.0"
    paths(document)["/labels/"]["get"]["security"] = [
        {"bearerAuth": []},
        {"accessToken": ["labels:read"]},
    ]

    outcome = compat.check(
        new=write(tmp_path / "openapi.yaml", document), released_dir=released_dir
    )

    rules = {finding.rule: finding.impact for finding in outcome.findings}
    assert rules.get("security-alternative-added") is compat.Level.MINOR, compat.render(outcome)
    assert "security-requirement-changed" not in rules
    assert outcome.ok


def test_narrowing_the_security_list_stays_major(tmp_path: Path) -> None:
    base = yaml.safe_load(compat.CONTRACT.read_text())
    base["info"]["version"] = "1.0.0"
    released_dir = tmp_path / "released"
    released_dir.mkdir()
    write(released_dir / "1.0.0.yaml", base)
    document = copy.deepcopy(base)
    document["info"]["version"] = "1.1.0"
    paths(document)["/labels/"]["get"]["security"] = [{"accessToken": ["labels:read"]}]

    outcome = compat.check(
        new=write(tmp_path / "openapi.yaml", document), released_dir=released_dir
    )

    assert outcome.level is compat.Level.MAJOR, compat.render(outcome)
    assert "security-alternative-added" not in {finding.rule for finding in outcome.findings}
