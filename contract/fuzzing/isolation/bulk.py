"""B's bulk write naming A's task gets, operation by operation, what one naming a missing id gets,
and A's task reads back unchanged."""

from __future__ import annotations

import json
from typing import Any

import schemathesis

from contract.fuzzing.auth import Account
from contract.fuzzing.fixtures import new_task, read_back_task
from contract.fuzzing.isolation.replay import (
    Answer,
    replay_as,
    require_unchanged,
    theirs_and_nobodys,
)
from contract.fuzzing.run import record

BULK_PATH = "/tasks/bulk/"
# Generated updates and deletes kept in a probe. Each is a write the server runs twice (A's id,
# then a missing one): all 100 of a near-boundary batch made the bulk operation's coverage phase
# outlast a 60 s access token on PostgreSQL behind nginx, and ten already try every shape.
BULK_PROBE_GENERATED = 10
BULK_ID_OPS = ("update", "delete")


def is_bulk_operation(case: schemathesis.Case) -> bool:
    return case.operation.path == BULK_PATH and case.method.upper() == "POST"


def _bulk_probe(body: Any, task_id: int, etag: str | None) -> Any:
    """The generated batch as B sends it, every operation naming `task_id`.

    Its first updates and deletes keep their generated `body` and `if_match`; creates are left out
    (B creates nothing, so B's lists stay empty for lists.check_list). Appended: a plain update and
    delete, and both with A's current ETag, so every probe tries each way in. A body that is not
    a readable batch is sent as generated: the two answers must then be the same 400.
    """
    if not isinstance(body, dict) or not isinstance(body.get("operations"), list):
        return body
    generated = [
        {**item, "id": task_id}
        for item in body["operations"]
        if isinstance(item, dict) and item.get("op") in BULK_ID_OPS
    ]
    added: list[dict[str, Any]] = [{"op": "update", "id": task_id, "body": {"title": "B's"}}]
    if etag:
        added.append({"op": "update", "id": task_id, "if_match": etag, "body": {"title": "B's"}})
        added.append({"op": "delete", "id": task_id, "if_match": etag})
    added.append({"op": "delete", "id": task_id})
    return {**body, "operations": generated[:BULK_PROBE_GENERATED] + added}


def _bulk_results(answer: Answer) -> list[Any] | None:
    if answer.status != 200:
        return None
    try:
        results = json.loads(answer.body)["results"]
    except (ValueError, KeyError, TypeError):
        return None
    return results if isinstance(results, list) else None


def check_bulk(case: schemathesis.Case, owner: Account, intruder: Account, base_url: str) -> None:
    task_id, before = new_task(owner)
    record(f"isolation.{case.operation.label}.victim")
    theirs, nobodys = theirs_and_nobodys(
        task_id,
        lambda id_: replay_as(
            case,
            intruder,
            base_url,
            body=_bulk_probe(case.body, id_, before.etag),
            fresh_idempotency_key=True,
        ),
    )
    their_results, nobodys_results = _bulk_results(theirs), _bulk_results(nobodys)
    if their_results is None or nobodys_results is None:
        # Not a batch the server could read (or no 200 at all): the whole answers must agree.
        if not theirs.same_as(nobodys):
            raise AssertionError(
                f"User B can tell that task {task_id} of user A exists: the bulk write with "
                f"A's id and with a nonexistent id answer differently.\n"
                f"A's id:\n  {theirs.describe()}\nNonexistent id:\n  {nobodys.describe()}"
            )
    else:
        record(f"isolation.{case.operation.label}.results")
        if their_results != nobodys_results:
            raise AssertionError(
                f"User B can tell that task {task_id} of user A exists: results of a bulk write "
                f"naming A's id differ from those naming a nonexistent id.\n"
                f"A's id:\n  {theirs.describe()}\nNonexistent id:\n  {nobodys.describe()}"
            )
        applied = [r for r in their_results if not isinstance(r, dict) or r.get("status", 0) < 400]
        if applied:
            raise AssertionError(
                f"User B's bulk write on task {task_id} of user A got {applied}; every operation "
                f"should be the 404 a nonexistent id gets.\n  {theirs.describe()}"
            )
    require_unchanged(
        before,
        read_back_task(owner, task_id),
        f"Task {task_id} of user A changed after user B's bulk write.",
        theirs.curl,
    )
