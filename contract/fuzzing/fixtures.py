"""Tasks, labels and webhooks a user of the run owns, made through the API as a client makes
them, and what the owner reads of them back (to see whether another user's request changed it)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contract.fuzzing import ledger

if TYPE_CHECKING:
    from contract.fuzzing.auth import Account

# Operations on a task in the trash: their fixture is one of A's deleted tasks.
TRASH_PATHS = ("/tasks/{id}/restore/", "/tasks/trash/{id}/")


@dataclass
class Snapshot:
    """What the owner can read of one object: the task (live or in the trash) and its ETag, the
    label, or the webhook and its delivery log."""

    status: int
    content: bytes
    etag: str | None

    def describe(self) -> str:
        return f"{self.status} ETag={self.etag} {self.content!r}"

    def same_as(self, other: Snapshot) -> bool:
        return (self.status, self.content, self.etag) == (other.status, other.content, other.etag)


def create(owner: Account, path: str, body: dict[str, Any], noun: str) -> int:
    """The id of a new object of `owner`'s; a refusal is a failure of the run, not of the API."""
    created = owner.request("POST", path, json=body)
    if created.status_code != 201:
        raise AssertionError(
            f"user {owner.label} could not create a {noun}: "
            f"{created.status_code} {created.text[:500]}"
        )
    return created.json()["id"]


def new_task(owner: Account, *, trashed: bool = False) -> tuple[int, Snapshot]:
    """A task of A's (in A's trash when `trashed`), as A reads it."""
    task_id = create(
        owner,
        "/tasks/",
        {
            "title": "isolation victim",
            "description": "B must never see or change this.",
            "priority": "high",
            "due_date": "2031-05-17",
        },
        "task",
    )
    ledger.known_ids_of_a.add(task_id)
    snapshot = read_back_task(owner, task_id)
    if snapshot.status != 200:
        raise AssertionError(f"user A could not read task {task_id}: {snapshot.status}")
    if trashed:
        deleted = owner.request("DELETE", f"/tasks/{task_id}/")
        if deleted.status_code != 204:
            raise AssertionError(f"user A could not delete task {task_id}: {deleted.status_code}")
        snapshot = read_back_task(owner, task_id, trashed=True, etag=snapshot.etag)
        if snapshot.status != 200:
            raise AssertionError(f"task {task_id} of user A is not in A's trash")
    return task_id, snapshot


def read_back_task(
    owner: Account, task_id: int, *, trashed: bool = False, etag: str | None = None
) -> Snapshot:
    if not trashed:
        response = owner.request("GET", f"/tasks/{task_id}/")
        return Snapshot(response.status_code, response.content, response.headers.get("ETag"))
    # A task in the trash has no URL of its own: find it in A's trash (newest first).
    url: str | None = f"{owner.base_url}/tasks/trash/?page_size=100"
    while url:
        response = owner.request("GET", url.removeprefix(owner.base_url))
        if response.status_code != 200:
            raise AssertionError(f"user A could not read the trash: {response.status_code}")
        page = response.json()
        for item in page["results"]:
            if item["id"] == task_id:
                return Snapshot(200, json.dumps(item, sort_keys=True).encode(), etag)
        url = page["next"]
    return Snapshot(404, b"", etag)


def new_label(owner: Account, purpose: str) -> tuple[int, Snapshot]:
    body = {"name": f"{purpose} {uuid.uuid4().hex[:12]}", "color": "#aa0000"}
    label_id = create(owner, "/labels/", body, "label")
    return label_id, read_back_label(owner, label_id)


def read_back_label(owner: Account, label_id: int) -> Snapshot:
    response = owner.request("GET", f"/labels/{label_id}/")
    return Snapshot(response.status_code, response.content, None)


def new_webhook(owner: Account) -> tuple[int, Snapshot]:
    # Inactive, to a port nothing serves: it exists to be read back, never to receive.
    body = {"url": "http://127.0.0.1:9/victim", "event_types": ["task.created"], "active": False}
    webhook_id = create(owner, "/webhooks/", body, "webhook")
    return webhook_id, read_back_webhook(owner, webhook_id)


def read_back_webhook(owner: Account, webhook_id: int) -> Snapshot:
    """The webhook as its owner reads it, and its delivery log (B's test event would add to it)."""
    webhook = owner.request("GET", f"/webhooks/{webhook_id}/")
    log = owner.request("GET", f"/webhooks/{webhook_id}/deliveries/")
    return Snapshot(webhook.status_code, webhook.content + b"\n" + log.content, None)
