"""B naming another user's id in a request body: a task id (a parent, a sibling to move after) or
a label id gets exactly the answer a missing id gets, and the object reads back unchanged."""

from __future__ import annotations

import uuid

import schemathesis

from contract.fuzzing import ledger, run
from contract.fuzzing.auth import Account, account
from contract.fuzzing.fixtures import new_label, new_task, read_back_label, read_back_task
from contract.fuzzing.isolation.path_ids import id_parameter
from contract.fuzzing.isolation.replay import replay_as, require_unchanged, theirs_and_nobodys
from contract.fuzzing.run import lock, record

# Body fields holding a task id, per operation: B naming A's task there must look like a miss.
TASK_ID_BODY_FIELDS = {
    "POST /tasks/": ("parent_id",),
    "POST /tasks/{id}/move/": ("parent_id", "after_id"),
}


def check_task_ids(
    case: schemathesis.Case, owner: Account, intruder: Account, base_url: str
) -> None:
    fields = TASK_ID_BODY_FIELDS.get(case.operation.label, ())
    if not fields or not isinstance(case.body, dict):
        return
    path_parameters = {}
    parameter = id_parameter(case, "/tasks/")
    if parameter is not None:
        # B moves a task of B's own, so the request gets as far as the body.
        own = intruder.request("POST", "/tasks/", json={"title": "B's own task"}).json()["id"]
        ledger.own_ids_of_b.add(own)
        path_parameters = {parameter: own}
    task_id, before = new_task(owner)
    for field in fields:
        record(f"isolation.{case.operation.label}.body-{field}")
        # Without parent_id a move checks after_id among the current siblings.
        generated = {k: v for k, v in case.body.items() if field == "parent_id" or k != "parent_id"}
        theirs, nobodys = theirs_and_nobodys(
            task_id,
            lambda id_, field=field, generated=generated: replay_as(
                case,
                intruder,
                base_url,
                path_parameters=path_parameters,
                # A fresh key: the two replays must not be taken for retries of each other.
                extra_headers={"If-Match": "*", "Idempotency-Key": uuid.uuid4().hex},
                body={**generated, field: id_},
            ),
        )
        if not theirs.same_as(nobodys) or theirs.status < 400:
            raise AssertionError(
                f"User B can tell that task {task_id} of user A exists ({field} in the body): "
                f"{case.method} with A's id and with a nonexistent id answer differently.\n"
                f"A's id:\n  {theirs.describe()}\nNonexistent id:\n  {nobodys.describe()}"
            )
        require_unchanged(
            before,
            read_back_task(owner, task_id, etag=before.etag),
            f"Task {task_id} of user A changed after user B named it as {field}.",
            theirs.curl,
        )


def carries_labels(case: schemathesis.Case) -> bool:
    body = case.body if isinstance(case.body, dict) else {}
    return case.operation.label == "POST /tasks/" and isinstance(body.get("labels"), list)


def check_label_ids(case: schemathesis.Case) -> None:
    """A task B creates with A's label id is refused exactly like one with a missing id."""
    base_url = run.base_url(case.operation)
    owner, intruder = account("A", base_url), account("B", base_url)
    with lock:
        label_id, before = new_label(owner, "isolation victim")
        record(f"isolation.{case.operation.label}.label-in-body")
        theirs, nobodys = theirs_and_nobodys(
            label_id,
            lambda id_: replay_as(case, intruder, base_url, body={**case.body, "labels": [id_]}),
        )
        if not theirs.same_as(nobodys) or theirs.status != 400:
            raise AssertionError(
                f"User B's task with label {label_id} of user A is not refused like one with a "
                f"missing label.\nA's label:\n  {theirs.describe()}\n"
                f"Missing label:\n  {nobodys.describe()}"
            )
        require_unchanged(
            before,
            read_back_label(owner, label_id),
            f"Label {label_id} of user A changed after user B's task named it.",
            theirs.curl,
        )
        owner.request("DELETE", f"/labels/{label_id}/")
