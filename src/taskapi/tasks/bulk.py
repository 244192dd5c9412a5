"""POST /tasks/bulk/: up to MAX_OPERATIONS creates, updates and deletes in one call.

Two levels of refusal, on purpose:
- the envelope (`operations` and the shape of each item: `op`, `id`, `body`, `if_match`) is
  read first, in full; when any of it cannot be understood the whole call is a 400 that names
  the place (`operations.3.op`) and nothing runs;
- what each operation then does is decided by the single-task code (serializers, services,
  conditions), so every rule of POST /tasks/, PATCH and DELETE /tasks/{id}/ holds per
  operation, and its refusal - a 400 naming a field of its `body`, a 404, 409 or 412 - is that
  operation's result, not the call's.

Each operation is authorized on its own, all before the first runs (`_authorize`): one that
names a task or project where the caller's role lacks task:write refuses the whole call with the
policy's 403 - the contract's result statuses are a closed set (400, 404, 409, 412) - and nothing
runs. An id the caller cannot see is left to its operation: a 404 (or 400) result, as a missing
id's. Should a role change while the call runs, the 403 stops the call where it is.

Each operation runs in `transaction.atomic()`: a transaction of its own when the call has no
Idempotency-Key (nothing is held longer than a single write holds it), a savepoint inside the
call's one transaction when it has one (idempotency.respond_once: the writes and the stored
answer commit together). Either way a failed operation leaves nothing behind and the others
stand. Only errors that are an operation's answer are caught; anything else (the database
gone, a deadlock) fails the whole call.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from rest_framework.exceptions import ErrorDetail, ValidationError

from taskapi.core.errors import DomainError, PermissionDenied, problem_body
from taskapi.core.scoping import MAX_ID, HasId
from taskapi.projects import policy
from taskapi.tasks.conditions import if_match_versions, task_etag
from taskapi.tasks.selectors import task_get, task_list
from taskapi.tasks.serializers import TaskCreateIn, TaskOut, TaskPatchIn
from taskapi.tasks.services import task_create, task_ensure_version, task_trash, task_update

MAX_OPERATIONS = 100
CREATE, UPDATE, DELETE = "create", "update", "delete"
OPS = (CREATE, UPDATE, DELETE)
NEEDS_ID = (UPDATE, DELETE)
NEEDS_BODY = (CREATE, UPDATE)

Result = dict[str, Any]


@dataclass(frozen=True)
class Operation:
    op: str
    task_id: int | None
    body: dict[str, Any] | None
    if_match: str | None


def _error(message: str, code: str) -> list[ErrorDetail]:
    return [ErrorDetail(message, code=code)]


def _task_id(value: Any) -> int | None:
    """The id `value` names, or None. JSON Schema's `integer` includes 7.0, so it is 7."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # finite: the parser refuses NaN and Infinity
    # bool is an int in Python, but `true` is not an id in JSON.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return None


def _parse_item(item: Any) -> tuple[Operation | None, dict[str, list[ErrorDetail]]]:
    if not isinstance(item, dict):
        return None, {"": _error("Expected an object.", "invalid")}
    errors: dict[str, list[ErrorDetail]] = {}
    op = item.get("op")
    if "op" not in item:
        errors["op"] = _error("This field is required.", "required")
    elif not isinstance(op, str) or op not in OPS:
        errors["op"] = _error(f"Use one of: {', '.join(OPS)}.", "invalid_choice")
        return None, errors
    if op in NEEDS_ID:
        if "id" not in item:
            errors["id"] = _error("This field is required.", "required")
        elif _task_id(item["id"]) is None:
            errors["id"] = _error("A task id: an integer of at least 1.", "invalid")
    if op in NEEDS_BODY:
        if "body" not in item:
            errors["body"] = _error("This field is required.", "required")
        elif not isinstance(item["body"], dict):
            errors["body"] = _error("Expected an object.", "invalid")
    if_match = item.get("if_match")
    if op in NEEDS_ID and "if_match" in item and not isinstance(if_match, str):
        errors["if_match"] = _error("Not a valid string.", "invalid")
    if errors or not isinstance(op, str):  # op is a str in OPS when there are no errors
        return None, errors
    return (
        Operation(
            op=op,
            task_id=_task_id(item["id"]) if op in NEEDS_ID else None,
            body=item["body"] if op in NEEDS_BODY else None,
            if_match=if_match if op in NEEDS_ID else None,
        ),
        {},
    )


def bulk_operations(data: Any) -> list[Operation]:
    """The operations of a request body, or a ValidationError naming every unreadable place."""
    if not isinstance(data, dict):
        raise ValidationError(
            {"non_field_errors": _error("Expected an object with `operations`.", "invalid")}
        )
    if "operations" not in data:
        raise ValidationError({"operations": _error("This field is required.", "required")})
    items = data["operations"]
    if not isinstance(items, list):
        raise ValidationError({"operations": _error("Expected a list of operations.", "invalid")})
    if not items:
        raise ValidationError({"operations": _error("This list may not be empty.", "empty")})
    if len(items) > MAX_OPERATIONS:
        message = f"Ensure this field has no more than {MAX_OPERATIONS} elements."
        raise ValidationError({"operations": _error(message, "max_length")})
    operations: list[Operation] = []
    errors: dict[str, list[ErrorDetail]] = {}
    for index, item in enumerate(items):
        operation, item_errors = _parse_item(item)
        for field, details in item_errors.items():
            errors[f"operations.{index}.{field}" if field else f"operations.{index}"] = details
        if operation is not None:
            operations.append(operation)
    if errors:
        raise ValidationError(errors)
    return operations


def _id_of(operation: Operation) -> int:
    """The task id of an update or delete: _parse_item refuses either without one."""
    if operation.task_id is None:
        raise TypeError(f"{operation.op} operation without a task id")
    return operation.task_id


def _create(user: HasId, operation: Operation) -> Result:
    task = task_create(user=user, data=TaskCreateIn(data=operation.body).validated())
    return {"status": 201, "etag": task_etag(task), "body": dict(TaskOut(task).data)}


def _update(user: HasId, operation: Operation) -> Result:
    # In the order of PATCH /tasks/{id}/: 404, then the precondition, then the content.
    task = task_get(user=user, task_id=_id_of(operation))
    expected = if_match_versions(operation.if_match)
    task_ensure_version(task=task, expected_versions=expected)
    changes = TaskPatchIn(data=operation.body).validated()
    task = task_update(user=user, task=task, changes=changes, expected_versions=expected)
    return {"status": 200, "etag": task_etag(task), "body": dict(TaskOut(task).data)}


def _delete(user: HasId, operation: Operation) -> Result:
    expected = if_match_versions(operation.if_match)
    task_trash(user=user, task_id=_id_of(operation), expected_versions=expected)
    return {"status": 204}


APPLY = {CREATE: _create, UPDATE: _update, DELETE: _delete}


def _project_named(operation: Operation) -> int | None:
    """The project a create names in its body (None: the Inbox, or no readable id, which the
    create itself refuses)."""
    value = (operation.body or {}).get("project_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _authorize(user: HasId, operations: Sequence[Operation]) -> None:
    """The policy's 403 for the whole call if any operation needs task:write where the caller's
    role lacks it (two statements: the tasks' projects, the caller's roles there)."""
    task_ids = [op.task_id for op in operations if op.task_id is not None and op.task_id <= MAX_ID]
    named = (_project_named(op) for op in operations if op.op == CREATE)
    projects: set[int] = {project_id for project_id in named if project_id is not None}
    if task_ids:
        visible = task_list(user=user).filter(pk__in=task_ids)
        projects.update(visible.values_list("project_id", flat=True))
    policy.require_each(user=user, project_ids=projects, permission=policy.TASK_WRITE)


def _apply(user: HasId, operation: Operation) -> Result:
    try:
        with transaction.atomic():
            return APPLY[operation.op](user, operation)
    except PermissionDenied:
        raise  # the call's answer, not a result: see the module's docstring
    except (DomainError, ValidationError) as exc:
        body = problem_body(exc)
        return {"status": body["status"], "body": body}


def task_bulk(*, user: HasId, operations: Sequence[Operation]) -> list[Result]:
    """Apply the operations in order; one result per operation, failed ones included."""
    _authorize(user, operations)
    return [_apply(user, operation) for operation in operations]
