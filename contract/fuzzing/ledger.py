"""What the run knows of who may see what, as far as the matrix check needs to know.

Every task ever in a shared project is remembered: a member's changes feed may list it as
deleted after it left (moved to a project they cannot see, trashed, erased), and a member's
webhook may announce it. No other task of A's may reach anyone but A.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

# Tasks that were, at some point, in a project A shares: the fixtures, and those A's generated
# requests created in, moved to or wrote in one.
in_shared_projects: set[int] = set()
# The tasks the run's fixtures deleted in a shared project: each must be announced to the
# viewer's webhook.
fixtures_deleted: set[int] = set()
# Sync tokens the server issued to A (stateful links hand them to later requests).
known_tokens_of_a: set[str] = set()
_tokens_in_order: list[str] = []
# The projects A shares (the long-lived one and every clone), by id.
shared_project_ids: set[int] = set()
# Each subject's own webhooks (to the run's receiver): the only ones their webhook list may show.
webhooks_of: dict[str, set[int]] = {}


def _body(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def tasks_in(body: Any) -> list[dict[str, Any]]:
    """Every task object in an answer: a task, a page, the feed, or a bulk write's results."""
    if not isinstance(body, dict):
        return []
    if "project_id" in body and "id" in body:
        return [body]
    found = []
    for key in ("results", "tasks"):
        for item in body.get(key) or []:
            if isinstance(item, dict):
                found.extend(tasks_in(item.get("body", item)))
    return found


def note_tasks(content: bytes) -> Any:
    """The tasks an answer shows in a shared project; the parsed body."""
    body = _body(content)
    for task in tasks_in(body):
        if task.get("project_id") in shared_project_ids and isinstance(task.get("id"), int):
            in_shared_projects.add(task["id"])
    return body


def remember(response: schemathesis.Response, case: schemathesis.Case) -> None:
    """The tasks A's answers show in a shared project, and the sync tokens A was given."""
    if response.status_code >= 300:
        return
    body = note_tasks(response.content)
    if case.operation.label == "GET /tasks/changes/" and isinstance(body, dict):
        token = body.get("sync_token")
        if isinstance(token, str) and token not in known_tokens_of_a:
            known_tokens_of_a.add(token)
            _tokens_in_order.append(token)


def newest_token_of_a() -> str:
    """The last sync token A was given (the caller checks that there is one)."""
    return _tokens_in_order[-1]
