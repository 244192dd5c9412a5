"""Why schema-valid data was refused: a 400, 412 or 422 that schemathesis.toml lets through is
allowed only for the reason the contract documents, and so is each refused operation of a bulk
write.

JSON Schema cannot say "the account's real password", "not a common password", "an email nobody
has yet", "the ETag the task has now" or "a cursor the server issued", so a schema-valid request
may rightly get these answers. schemathesis.toml adds the statuses to the expected ones of exactly
these operations, and this check narrows them back to these reasons: any other field or problem
type on a schema-valid request still fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import schemathesis

from contract.fuzzing.run import problem

DUE_TIME_400 = {
    ("time_zone", "unknown_zone"),
    ("time_zone", "without_due_at"),
    ("due_at", "conflict"),
    ("due_at", "out_of_range"),
}
WEBHOOK_URL_400 = {
    ("url", "unresolvable"),
    ("url", "forbidden_address"),
    ("url", "scheme"),
    ("url", "invalid"),
}
ASSIGNEE_400 = {("assignee_id", "does_not_exist")}
EXPLAINED_400 = {
    "POST /auth/register/": {
        ("email", "unique"),
        ("password", "password_too_common"),
        ("password", "password_entirely_numeric"),
        ("password", "password_too_similar"),
        ("password", "password_too_short"),
    },
    "POST /auth/password/": {
        ("current_password", "invalid"),
        ("new_password", "password_too_common"),
        ("new_password", "password_entirely_numeric"),
        ("new_password", "password_too_similar"),
        ("new_password", "password_too_short"),
    },
    "DELETE /auth/me/": {("password", "invalid")},
    # An expiry must be in the future and at most 366 days away (a window that moves with the
    # clock; generation.map_body supplies one every other time), and a user has at most 50.
    "POST /auth/tokens/": {("expires_at", "past"), ("expires_at", "too_far"), (None, "limit")},
    "GET /tasks/": {("cursor", "invalid")},
    "GET /tasks/trash/": {("cursor", "invalid")},
    "GET /tasks/changes/": {("sync_token", "invalid")},
    # Due times (tasks/due.py), labels and subtasks: rules JSON Schema cannot state. A
    # generated label id is rarely one of the user's labels (generation.map_body supplies real
    # ones for lists of two or more), a generated task id rarely one of the user's live tasks, or
    # a fitting one, and a generated label name may repeat one the run already used.
    # A generated project_id is rarely a project of the user's, a generated assignee_id rarely
    # a member of the task's project (1.4.0, "Projects, roles and permissions").
    "POST /tasks/": DUE_TIME_400
    | ASSIGNEE_400
    | {
        ("labels", "does_not_exist"),
        ("parent_id", "does_not_exist"),
        ("parent_id", "max_depth"),
        ("project_id", "does_not_exist"),
    },
    "PUT /tasks/{id}/": DUE_TIME_400 | ASSIGNEE_400 | {("labels", "does_not_exist")},
    "PATCH /tasks/{id}/": DUE_TIME_400 | ASSIGNEE_400 | {("labels", "does_not_exist")},
    "POST /tasks/{id}/move/": {
        ("project_id", "does_not_exist"),
        ("parent_id", "does_not_exist"),
        ("parent_id", "cycle"),
        ("parent_id", "max_depth"),
        ("after_id", "does_not_exist"),
    },
    "POST /labels/": {("name", "unique"), (None, "limit")},
    "PATCH /labels/{id}/": {("name", "unique")},
    # What a webhook URL may point at needs DNS (webhooks/ssrf.py); the run runs with loopback
    # receivers allowed, so a generated URL is refused only for these reasons.
    "POST /webhooks/": WEBHOOK_URL_400 | {(None, "limit")},
    "PATCH /webhooks/{id}/": WEBHOOK_URL_400,
    "GET /webhooks/{id}/deliveries/": {("cursor", "invalid")},
    # The new owner must be a member of the project.
    "POST /projects/{id}/transfer/": {("user_id", "does_not_exist")},
}
CONDITIONAL_WRITES = {
    "PUT /tasks/{id}/",
    "PATCH /tasks/{id}/",
    "DELETE /tasks/{id}/",
    "POST /tasks/{id}/restore/",
    "POST /tasks/{id}/move/",
}
IDEMPOTENT_WRITES = {"POST /tasks/", "POST /tasks/bulk/"}
BULK_LABEL = "POST /tasks/bulk/"

# The coverage phase's scenarios that generate valid data (schemathesis.generation.meta.
# CoverageScenario, "Positive scenarios").
VALID_SCENARIOS = {
    "example_value", "default_value", "enum_value", "const_value", "valid_string",
    "valid_number", "valid_boolean", "valid_array", "valid_object", "null_value",
    "minimum_length_string", "maximum_length_string", "near_boundary_length_string",
    "minimum_value", "maximum_value", "near_boundary_number", "maximum_items_array",
    "near_boundary_items_array", "enum_value_items_array", "object_only_required",
    "object_required_and_optional", "object_additional_property", "default_positive_test",
}  # fmt: skip


def _is_positive(meta: Any) -> bool:
    """Whether the case is meant to be valid. Schemathesis 4.32 labels some cases positive that
    break the schema: in the coverage phase, scenarios such as an array with an item below its
    minimum or with more items than its maxItems (there the scenario decides); in the fuzzing
    phase, cases with schema mutations."""
    if not meta.generation.mode.is_positive:
        return False
    data = getattr(meta.phase, "data", None)
    # The fuzzing phase does the same with cases it mutated to break the schema (seen: a
    # negated `pattern` of Idempotency-Key); every mutation operator breaks it.
    if getattr(data, "mutations", None):
        return False
    scenario = getattr(data, "scenario", None)
    return scenario is None or str(scenario) in VALID_SCENARIOS


def refusals_have_a_documented_reason(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case
) -> None:
    """400/412/422 answers that schemathesis.toml expects are allowed only for their reason."""
    meta = case.meta
    if meta is None:
        return
    label = case.operation.label
    status = response.status_code
    refusal = problem(response)
    positive = _is_positive(meta)
    if positive and status == 400 and label in EXPLAINED_400:
        found = {(error.get("field"), error.get("code")) for error in refusal.get("errors", [])}
        unexplained = found - EXPLAINED_400[label]
        if not found or unexplained:
            reasons = sorted(map(str, unexplained or found))
            raise AssertionError(
                f"Schema-valid request refused with 400 for {reasons}; the contract's schema "
                f"should reject what the server rejects.\n{refusal}"
            )
    if status == 412 and label in CONDITIONAL_WRITES:
        if_match = case.headers.get("If-Match")
        if if_match is None or if_match.strip() == "*":
            raise AssertionError(f"412 without a stale If-Match (If-Match: {if_match!r})")
    replayed_key = "Idempotency-Key" in case.headers and refusal.get("type") == (
        "/problems/idempotency-key-reused"
    )
    if positive and status == 422 and label in IDEMPOTENT_WRITES and not replayed_key:
        raise AssertionError(f"Schema-valid task refused with 422: {refusal}")
    if label == BULK_LABEL and status == 200:
        _check_bulk_results(response, case)


# --- each operation of a bulk write -----------------------------------------------------------

# What a single operation of a batch may be refused with, each the single-task operation's own.
BULK_REFUSALS = {400, 404, 409, 412}
CONTRACT = Path(__file__).resolve().parents[2] / "openapi.yaml"
_BULK_VALIDATOR: Any = None


def _bulk_operation_validator() -> Any:
    """A validator of one operation against the contract's TaskBulkOperation (built once)."""
    global _BULK_VALIDATOR
    if _BULK_VALIDATOR is None:
        import jsonschema
        import yaml

        contract = yaml.safe_load(CONTRACT.read_text())
        # The contract document as the root, so its #/components/... references resolve.
        schema = {**contract, "$ref": "#/components/schemas/TaskBulkOperation"}
        checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
        _BULK_VALIDATOR = jsonschema.Draft202012Validator(schema, format_checker=checker)
    return _BULK_VALIDATOR


# An operation's 400 a schema-valid body may rightly get: the reasons its single-task
# operation may give (EXPLAINED_400: labels, due times, parents the schema cannot state).
BULK_OPERATION_LABELS = {"create": "POST /tasks/", "update": "PATCH /tasks/{id}/"}


def _explained_bulk_refusal(operation: Any, result: dict[str, Any]) -> bool:
    label = BULK_OPERATION_LABELS.get(operation.get("op")) if isinstance(operation, dict) else None
    body = result.get("body")
    errors = body.get("errors", []) if isinstance(body, dict) else []
    found = {(error.get("field"), error.get("code")) for error in errors if isinstance(error, dict)}
    return label is not None and bool(found) and found <= EXPLAINED_400[label]


def _check_bulk_results(response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Each operation of a 200 bulk write is judged against the contract on its own.

    An operation the contract's schema accepts gets no 400 result; one it rejects gets a
    refusal (its 400, or the 404 or 412 checked first as in PATCH): a body that breaks TaskCreate
    or TaskPatch is that operation's result, not the call's, so schemathesis.toml lets
    negative_data_rejection accept the 200 and this narrows it back. Schemathesis' own label of
    the case is not used: inside the `oneOf` of operations, 4.32 labels cases "positive" whose
    operations break the schema (a create's `description` a boolean after a mutation; a title
    of one U+001C character, which the title's pattern refuses).
    """
    try:
        results = json.loads(response.content)["results"]
        operations = case.body["operations"]
    except (ValueError, KeyError, TypeError):
        return  # response_schema_conformance reports a malformed 200
    validator = _bulk_operation_validator()
    for index, (operation, result) in enumerate(zip(operations, results, strict=False)):
        status = result.get("status") if isinstance(result, dict) else None
        valid = validator.is_valid(operation)
        if valid and status == 400 and not _explained_bulk_refusal(operation, result):
            raise AssertionError(
                f"Operation {index} of a bulk write is valid for the contract's schema but got "
                f"a 400 result: {result}\noperation: {operation!r}"
            )
        if not valid and status not in BULK_REFUSALS:
            raise AssertionError(
                f"Operation {index} of a bulk write breaks the contract's schema but was not "
                f"refused ({status}): {result}\noperation: {operation!r}"
            )
