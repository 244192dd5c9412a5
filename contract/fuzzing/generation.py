"""What a generated case is given before it is sent: headers the transport owns are dropped, and
a share of the ids no generator could guess are replaced by real ones, in the projects A shares.

A generated id is almost never one of A's objects, so without help every operation on a task
or a project would only ever answer 404. Every other generated id, in turn, is replaced: a task
id by a task made for the request in the shared project (a deleted one for restore and erase),
a project id by the shared project for reads and by a clone (sharing.Clones) for writes, with
the clone's viewer in place of a member's user id and I's pending invitation in place of an
invitation id; a `project_id` in a body or a query by the shared project. A's own accept,
decline and leave get a project of C's that A is invited to, or a member of. The other ids
keep testing the 404s and 400s of ids that name nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import schemathesis

from contract.fuzzing import run
from contract.fuzzing.auth import account
from contract.fuzzing.fixtures import TRASH_PATHS, new_label, new_task
from contract.fuzzing.run import HOP_BY_HOP_HEADERS, lock, record
from contract.fuzzing.sharing import OWNER, clones, project_of_c, shared_project

# A header parameter set is generated as an object that may carry extra, arbitrary keys. These
# names frame the HTTP message itself: the client library sets them, and a garbled value is
# refused by the HTTP server (Uvicorn's plain-text 400) before the application runs. Behind nginx,
# as deployed, such a request is a problem+json 400 (tests/stack/test_edge.py).
TRANSPORT_HEADERS = {
    "content-length",
    "transfer-encoding",
    "host",
    "expect",
    "upgrade",
    *HOP_BY_HOP_HEADERS,
}


def map_headers(ctx: schemathesis.HookContext, headers: dict[str, Any] | None) -> Any:
    if not headers:
        return headers
    return {name: value for name, value in headers.items() if name.lower() not in TRANSPORT_HEADERS}


def _is_id(value: Any) -> bool:
    return type(value) in (int, float) and value == int(value) and 1 <= value < 2**63


_turns: Counter[str] = Counter()


def _steered(value: Any, where: str, every: int = 2) -> bool:
    """Whether a generated id is replaced by a real one: all but one in `every` well-formed ones
    at `where` (an operation's parameter), in turn. In turn, not by the value: a seed may
    generate the same odd id over and over. (JSON Schema's integers include 5.0; a negative
    case's bad value stays bad.)"""
    if not _is_id(value):
        return False
    _turns[where] += 1
    return _turns[where] % every != 0


# --- ids in the path ------------------------------------------------------------------------


def map_path_parameters(ctx: schemathesis.HookContext, path_parameters: dict[str, Any]) -> Any:
    operation = ctx.operation
    if operation is None or not path_parameters:
        return path_parameters
    path, method = operation.path, operation.method.upper()
    generated = path_parameters.get("id", path_parameters.get("invitation_id"))
    if not _steered(generated, operation.label):
        return path_parameters
    base_url = run.base_url(operation)
    if path.startswith("/tasks/"):
        with lock:
            project = shared_project(base_url).id
            task_id, _ = new_task(account(OWNER, base_url), project, trashed=path in TRASH_PATHS)
        record("fixture.steered-task")
        return {**path_parameters, "id": task_id}
    if path.startswith("/invitations/"):
        record("fixture.steered-invitation")
        return {**path_parameters, "invitation_id": project_of_c.invitation(base_url)}
    if not path.startswith("/projects/"):
        return path_parameters
    if path == "/projects/{id}/leave/":
        record("fixture.steered-membership")
        return {**path_parameters, "id": project_of_c.joined(base_url)}
    if method == "GET":
        return {**path_parameters, "id": shared_project(base_url).id}
    if not clones.can_lend():
        return path_parameters
    clone = clones.take(base_url)
    record("fixture.steered-clone")
    steered = {**path_parameters, "id": clone.id}
    if "user_id" in path_parameters:
        steered["user_id"] = clone.users["V"]
    if "invitation_id" in path_parameters:
        steered["invitation_id"] = clone.invitation
    return steered


# --- ids in the query and the body ------------------------------------------------------------

# A generated label id is almost never one of A's labels, so a task write that carries labels
# would only ever answer 400. In requests with an even number of labels, the generated ids are
# replaced by labels A has created: the rest keep testing the refusal.
LABELLED_WRITES = ("POST /tasks/", "PUT /tasks/{id}/", "PATCH /tasks/{id}/")
FIXTURE_LABELS = 3
_labels_of_a: dict[str, list[int]] = {}


def fixture_labels_of_a(base_url: str) -> list[int]:
    with lock:
        if base_url not in _labels_of_a:
            owner = account(OWNER, base_url)
            _labels_of_a[base_url] = [new_label(owner, "fixture")[0] for _ in range(FIXTURE_LABELS)]
        return _labels_of_a[base_url]


def map_query(ctx: schemathesis.HookContext, query: dict[str, Any] | None) -> Any:
    operation = ctx.operation
    if operation is None or not query:
        return query
    if not _steered(query.get("project_id"), f"{operation.label} project_id"):
        return query
    return {**query, "project_id": shared_project(run.base_url(operation)).id}


def map_body(ctx: schemathesis.HookContext, body: Any) -> Any:
    operation = ctx.operation
    if operation is None or not isinstance(body, dict):
        return body
    base_url = run.base_url(operation)
    label = operation.label
    # Two in three: a transfer succeeds only when its path was steered to a clone (one in two)
    # as well, and an operation that never succeeds fails the run (missing_test_data).
    if label == "POST /projects/{id}/transfer/" and _steered(body.get("user_id"), label, every=3):
        # A member of every shared project and clone.
        return {**body, "user_id": account("E", base_url).user_id}
    if label in ("POST /tasks/", "POST /tasks/{id}/move/") and _steered(
        body.get("project_id"), f"{label} project_id"
    ):
        body = {**body, "project_id": shared_project(base_url).id}
    if label == "POST /auth/tokens/" and isinstance(body.get("expires_at"), str):
        # A generated date-time almost never falls in the next 366 days; every other one does.
        _turns[label] += 1
        if _turns[label] % 2:
            days = 1 + _turns[label] % 365
            expiry = datetime.now(UTC) + timedelta(days=days)
            return {**body, "expires_at": expiry.isoformat()}
    if operation.label not in LABELLED_WRITES:
        return body
    labels = body.get("labels")
    if not isinstance(labels, list) or len(labels) < 2:
        return body
    if not all(_is_id(label_id) for label_id in labels):
        return body
    fixtures = fixture_labels_of_a(base_url)
    record("fixture.labels")
    return {**body, "labels": [fixtures[i % len(fixtures)] for i in range(len(labels))]}


def lent_clone(case: schemathesis.Case) -> int | None:
    """The clone a generated request was given, if any (the check gives it back)."""
    project_id = (case.path_parameters or {}).get("id")
    if case.operation.path.startswith("/projects/") and project_id in clones.out:
        return project_id
    return None
