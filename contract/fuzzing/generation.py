"""What a generated case is given before it is sent: headers the transport owns are dropped, and
a share of the ids no generator could guess are replaced by real ones of A's."""

from __future__ import annotations

from typing import Any

import schemathesis

from contract.fuzzing import run
from contract.fuzzing.auth import account
from contract.fuzzing.fixtures import TRASH_PATHS, new_label, new_task
from contract.fuzzing.run import HOP_BY_HOP_HEADERS, lock, record

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


# --- the trash --------------------------------------------------------------------------------

# A generated id is almost never one of A's tasks, and restore and erase act only on a task in
# A's trash, so without help they would only ever answer 404. Half of their generated ids (the
# even ones) are replaced by a task A has just created and deleted: a real fixture, like a
# client's, made through the API.


def _trashed_task_of_a(base_url: str) -> int:
    owner = account("A", base_url)
    with lock:
        task_id, _snapshot = new_task(owner, trashed=True)
    record("fixture.trashed-task")
    return task_id


def map_path_parameters(ctx: schemathesis.HookContext, path_parameters: dict[str, Any]) -> Any:
    operation = ctx.operation
    if operation is None or operation.path not in TRASH_PATHS or not path_parameters:
        return path_parameters
    generated = path_parameters.get("id")
    if not isinstance(generated, int) or generated % 2:
        return path_parameters
    return {**path_parameters, "id": _trashed_task_of_a(run.base_url(operation))}


# --- labels -----------------------------------------------------------------------------------

# A generated label id is almost never one of A's labels, so a task write that carries labels
# would only ever answer 400. In requests with an even number of labels, the generated ids are
# replaced by labels A has created: the rest keep testing the refusal.
LABELLED_WRITES = ("POST /tasks/", "PUT /tasks/{id}/", "PATCH /tasks/{id}/")
FIXTURE_LABELS = 3
_labels_of_a: dict[str, list[int]] = {}


def _fixture_labels_of_a(base_url: str) -> list[int]:
    with lock:
        if base_url not in _labels_of_a:
            owner = account("A", base_url)
            _labels_of_a[base_url] = [new_label(owner, "fixture")[0] for _ in range(FIXTURE_LABELS)]
        return _labels_of_a[base_url]


def _is_id(value: Any) -> bool:
    return type(value) in (int, float) and value == int(value) and 1 <= value < 2**63


def map_body(ctx: schemathesis.HookContext, body: Any) -> Any:
    operation = ctx.operation
    if operation is None or operation.label not in LABELLED_WRITES or not isinstance(body, dict):
        return body
    labels = body.get("labels")
    if not isinstance(labels, list) or len(labels) < 2:
        return body
    # Only well-formed ids are replaced (JSON Schema's integers include 5.0): a negative case's
    # bad value stays bad.
    if not all(_is_id(label_id) for label_id in labels):
        return body
    fixtures = _fixture_labels_of_a(run.base_url(operation))
    record("fixture.labels")
    return {**body, "labels": [fixtures[i % len(fixtures)] for i in range(len(labels))]}
