"""B's lists show none of A's tasks, labels or webhooks, and a sync token issued to A is a 400 for
B, exactly like a garbled one."""

from __future__ import annotations

from typing import Any

import schemathesis

from contract.fuzzing.auth import Account
from contract.fuzzing.isolation.replay import replay_as
from contract.fuzzing.ledger import known_ids_of_a, known_tokens_of_a, own_ids_of_b, webhooks_of_b
from contract.fuzzing.run import problem, record

LIST_PATHS = ("/tasks/", "/tasks/trash/", "/tasks/changes/", "/labels/", "/webhooks/")


def is_list_operation(case: schemathesis.Case) -> bool:
    return case.operation.path in LIST_PATHS and case.method.upper() == "GET"


def _listed_ids(body: dict[str, Any]) -> list[Any]:
    items = [*body.get("results", []), *body.get("tasks", [])]
    return [item.get("id") for item in items if isinstance(item, dict)] + list(
        body.get("deleted", [])
    )


def check_list(case: schemathesis.Case, intruder: Account, base_url: str) -> None:
    response, curl = replay_as(case, intruder, base_url)
    label = case.operation.label
    record(f"isolation.{label}.list")
    token = (case.query or {}).get("sync_token")
    if isinstance(token, str) and token in known_tokens_of_a:
        record(f"isolation.{label}.token-of-a")
        refusal = problem(response) if response.status_code == 400 else {}
        fields = [error.get("field") for error in refusal.get("errors", [])]
        if fields != ["sync_token"]:
            raise AssertionError(
                f"User B replayed a sync token issued to user A and got {response.status_code}, "
                f"not the 400 on sync_token a garbled token gets.\n"
                f"{response.content[:500]!r}\n  {curl}"
            )
        return
    if response.status_code != 200:
        return
    ids = _listed_ids(response.json())
    if label == "GET /webhooks/":
        # Webhook ids, not task ids: B's list holds B's own webhook (if any) and nothing else.
        strangers = sorted(set(ids) - webhooks_of_b)
        if strangers:
            raise AssertionError(f"User B's {label} shows webhooks B never created: {strangers}")
        return
    leaked = sorted(set(ids) & known_ids_of_a)
    if leaked:
        raise AssertionError(f"User B's {label} shows tasks of user A: {leaked}\n  {curl}")
    # B creates tasks of its own (the body checks) but never a label.
    own = set() if label == "GET /labels/" else own_ids_of_b
    strangers = [item_id for item_id in ids if item_id not in own]
    if strangers:
        raise AssertionError(f"User B's {label} shows items B never created: {strangers}\n  {curl}")
