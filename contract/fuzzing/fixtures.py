"""Tasks, labels, webhooks and invitations made through the API as a client makes them, and what
their owner reads of them back (to see whether another user's request changed them)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contract.fuzzing import ledger

if TYPE_CHECKING:
    from contract.fuzzing.auth import Account

# Operations on a task in the trash: their fixture is a deleted task.
TRASH_PATHS = ("/tasks/{id}/restore/", "/tasks/trash/{id}/")


@dataclass
class Snapshot:
    """What the owner can read of one object: the task (live or in the trash) and its ETag, the
    label, the webhook and its delivery log, or the project with its members and invitations."""

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


def new_task(
    owner: Account, project_id: int, *, trashed: bool = False, parent_id: int | None = None
) -> tuple[int, Snapshot]:
    """A task in the project (in its trash when `trashed`), as its owner reads it."""
    body = {
        "title": "matrix fixture",
        "description": "Only the project's members may see this.",
        "priority": "high",
        "due_date": "2031-05-17",
        "project_id": project_id,
        "parent_id": parent_id,
    }
    task_id = create(owner, "/tasks/", body, "task")
    ledger.in_shared_projects.add(task_id)
    snapshot = read_back_task(owner, task_id)
    if snapshot.status != 200:
        raise AssertionError(f"user {owner.label} could not read task {task_id}: {snapshot.status}")
    if trashed:
        deleted = owner.request("DELETE", f"/tasks/{task_id}/")
        if deleted.status_code != 204:
            raise AssertionError(f"could not delete task {task_id}: {deleted.status_code}")
        ledger.fixtures_deleted.add(task_id)
        snapshot = read_back_task(owner, task_id, trashed_in=project_id, etag=snapshot.etag)
        if snapshot.status != 200:
            raise AssertionError(f"task {task_id} is not in project {project_id}'s trash")
    return task_id, snapshot


def read_back_task(
    owner: Account, task_id: int, *, trashed_in: int | None = None, etag: str | None = None
) -> Snapshot:
    if trashed_in is None:
        response = owner.request("GET", f"/tasks/{task_id}/")
        return Snapshot(response.status_code, response.content, response.headers.get("ETag"))
    # A task in the trash has no URL of its own: find it in its project's trash (newest first).
    url: str | None = f"{owner.base_url}/tasks/trash/?page_size=100&project_id={trashed_in}"
    while url:
        response = owner.request("GET", url.removeprefix(owner.base_url))
        if response.status_code != 200:
            raise AssertionError(f"could not read the trash: {response.status_code}")
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
    """The webhook as its owner reads it, and its delivery log (a test event would add to it)."""
    webhook = owner.request("GET", f"/webhooks/{webhook_id}/")
    log = owner.request("GET", f"/webhooks/{webhook_id}/deliveries/")
    return Snapshot(webhook.status_code, webhook.content + b"\n" + log.content, None)


def new_invitation(owner: Account, project_id: int) -> tuple[int, Snapshot]:
    """An invitation to an address no account has: nobody of the run may answer it."""
    body = {"email": f"nobody-{uuid.uuid4().hex[:12]}@example.com", "role": "viewer"}
    invitation_id = create(owner, f"/projects/{project_id}/invitations/", body, "invitation")
    return invitation_id, read_back_invitation(owner, project_id, invitation_id)


def read_back_invitation(owner: Account, project_id: int, invitation_id: int) -> Snapshot:
    """The invitation as its project's owner lists it (it has no URL of its own)."""
    response = owner.request("GET", f"/projects/{project_id}/invitations/")
    if response.status_code != 200:
        return Snapshot(response.status_code, response.content, None)
    for item in response.json()["results"]:
        if item["id"] == invitation_id:
            return Snapshot(200, json.dumps(item, sort_keys=True).encode(), None)
    return Snapshot(404, b"", None)
