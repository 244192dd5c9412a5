"""Who owns what in this run, as far as the isolation checks need to know.

User B may never see what A owns, and B's lists may show only what B made itself.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

# Tasks A owns: the checks' own fixtures, and those A's generated requests created (stateful
# links reuse them as path ids).
known_ids_of_a: set[int] = set()
# Sync tokens the server issued to A (stateful links hand them to later requests).
known_tokens_of_a: set[str] = set()
# Tasks B created itself (to move them): B's lists may show these, and only these.
own_ids_of_b: set[int] = set()
# B's webhook to the run's receiver, if any: the only one B's webhook list may show.
webhooks_of_b: set[int] = set()


def _remembered(
    response: schemathesis.Response, case: schemathesis.Case, label: str, status: int, key: str
) -> Any:
    """`key` of the body of a `status` answer to the operation `label`, else None."""
    if case.operation.label != label or response.status_code != status:
        return None
    try:
        return json.loads(response.content)[key]
    except (ValueError, KeyError, TypeError):
        return None


def remember(response: schemathesis.Response, case: schemathesis.Case) -> None:
    """The task ids and sync tokens A's generated requests were given."""
    task_id = _remembered(response, case, "POST /tasks/", 201, "id")
    if isinstance(task_id, int):
        known_ids_of_a.add(task_id)
    token = _remembered(response, case, "GET /tasks/changes/", 200, "sync_token")
    if isinstance(token, str):
        known_tokens_of_a.add(token)
