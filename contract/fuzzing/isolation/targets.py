"""What a replayed request names, in a project A shares.

The generated request is kept (its body, query and headers: the fuzzer's shapes), and the ids in
it are replaced by real ones: a task id in the path by a task in the shared project (a deleted
one for restore and erase; new, or one that earlier replays left as it was, read again before
it is used), a project id by the shared project for reads and by a clone
for writes (with the clone's viewer as the member and I's invitation as the invitation), and in
bodies and queries `project_id` by that project, `parent_id` and `after_id` by new tasks beside
the target, a bulk write's ids by a new task, `labels` by A's (none for a member who may write:
labels are personal, and the owner's labels are another rule), a transfer's `user_id` by the
editor. `request(missing=True)` is the same request with every one of those ids replaced by one
that names nothing: what a non-member's answer must equal.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import schemathesis

from contract.fuzzing.auth import account
from contract.fuzzing.fixtures import (
    TRASH_PATHS,
    Snapshot,
    new_task,
    read_back_task,
)
from contract.fuzzing.generation import fixture_labels_of_a
from contract.fuzzing.isolation.replay import missing
from contract.fuzzing.run import record
from contract.fuzzing.sharing import OWNER, Shared, clones, read_back_project, shared_project

BULK = "POST /tasks/bulk/"
# Generated operations kept in a bulk probe. Each is a write the server runs once per replay,
# and a probe is replayed up to four times per request (each subject's, the missing ids', the
# owner's): all 100 of a near-boundary batch made the bulk operation's coverage phase outlast a
# 60 s access token on PostgreSQL behind nginx; five, with the five appended, try every shape.
BULK_PROBE_GENERATED = 5
BODY_TASK_IDS = ("parent_id", "after_id")
ID_PARAMETER = re.compile(r"\{([^}]+)\}")


def _get(body: Any, name: str) -> Any:
    return body.get(name) if isinstance(body, dict) else None


def is_id(value: Any) -> bool:
    return type(value) in (int, float) and value == int(value) and 1 <= value < 2**63


@dataclass
class Target:
    """The objects one replay names, how the owner reads the main one back, and what becomes
    of them after the replay."""

    shared: Shared
    path: dict[str, int] = field(default_factory=dict)
    etag: str | None = None
    before: Snapshot | None = None
    read_back: Callable[[], Snapshot] | None = None
    ids: dict[str, int] = field(default_factory=dict)  # parent_id, after_id, the bulk's task
    labels: list[int] = field(default_factory=list)
    # Set by the check when the replays left the object as it was: it may serve the next one.
    unchanged: bool = False
    on_release: Callable[[bool], None] = lambda unchanged: None

    def release(self) -> None:
        self.on_release(self.unchanged)

    def request(self, case: schemathesis.Case, *, missing_ids: bool, holder: bool) -> dict:
        """replay_as's arguments: the generated request, naming these objects (or none)."""

        def swap(object_id: int) -> int:
            return missing(object_id) if missing_ids else object_id

        # The outermost id is the one that is missing: the project's, or the task's.
        outer = next(iter(self.path), None)
        out: dict[str, Any] = {
            "path_parameters": {
                name: swap(value) if name == outer else value for name, value in self.path.items()
            }
        }
        query = case.query
        if isinstance(query, dict) and "project_id" in query:
            out["query"] = {**query, "project_id": swap(self.shared.id)}
        label = case.operation.label
        if label == BULK:
            out["body"] = self._bulk(case.body, swap, holder)
        elif label.startswith(("POST /tasks/", "PUT /tasks/", "PATCH /tasks/")):
            out["body"] = self._task(case.body, swap, holder, create=label == "POST /tasks/")
        elif label == "POST /projects/{id}/transfer/" and is_id(_get(case.body, "user_id")):
            out["body"] = {**case.body, "user_id": self.shared.users["E"]}
        return out

    def names_a_project(self, request: dict[str, Any], *, body_is_read: bool = True) -> bool:
        """Whether `request` (from `request`) names an object of the project: in the path, in
        a readable bulk write, or as the `project_id` of its query or of a body the server
        reads (JSON)."""
        parts = ("query", "body") if body_is_read else ("query",)
        return (
            bool(self.path)
            or "task" in self.ids
            or any(
                isinstance(request.get(part), dict) and is_id(request[part].get("project_id"))
                for part in parts
            )
        )

    def _task(self, body: Any, swap: Callable[[int], int], holder: bool, *, create: bool) -> Any:
        if not isinstance(body, dict):
            return body
        out = dict(body)
        # A bad value stays bad (a negative case); a task created without one goes to the
        # caller's own Inbox, which tells nothing.
        if is_id(out.get("project_id")) or (create and "project_id" not in out):
            out["project_id"] = swap(self.shared.id)
        for name in BODY_TASK_IDS:
            if name in self.ids and is_id(out.get(name)):
                out[name] = swap(self.ids[name])
        labels = out.get("labels")
        if isinstance(labels, list) and labels and all(is_id(label) for label in labels):
            mine = [swap(self.labels[i % len(self.labels)]) for i in range(len(labels))]
            out["labels"] = [] if holder else mine
        return out

    def _bulk(self, body: Any, swap: Callable[[int], int], holder: bool) -> Any:
        """The generated batch with every update and delete naming the target task and every
        create in the shared project; appended: a plain update and delete, both with the task's
        current ETag, and a create, so every probe tries each way in. A body that is not a
        readable batch is sent as generated."""
        if "task" not in self.ids or not isinstance(_get(body, "operations"), list):
            return body
        task = swap(self.ids["task"])
        generated = []
        for item in body["operations"]:
            if not isinstance(item, dict):
                continue
            if item.get("op") in ("update", "delete"):
                changed = {**item, "id": task}
                if isinstance(item.get("body"), dict):
                    changed["body"] = self._task(item["body"], swap, holder, create=False)
                generated.append(changed)
            elif item.get("op") == "create":
                created = self._task(item.get("body"), swap, holder, create=True)
                generated.append({**item, "body": created})
        added: list[dict[str, Any]] = [{"op": "update", "id": task, "body": {"title": "probe"}}]
        if self.etag:
            added.append({"op": "update", "id": task, "if_match": self.etag, "body": {}})
            added.append({"op": "delete", "id": task, "if_match": self.etag})
        added.append({"op": "delete", "id": task})
        project = swap(self.shared.id)
        added.append({"op": "create", "body": {"title": "probe", "project_id": project}})
        return {**body, "operations": generated[:BULK_PROBE_GENERATED] + added}


# Tasks that replays left as they were, by (project, in the trash), with their ETags: the next
# replay takes one of them, read again first (A's own requests may have changed it since), and
# so does not make a new one (four requests for a deleted task, two for a live one).
_spare: dict[tuple[int, bool], list[tuple[int, str | None]]] = defaultdict(list)


def _project_of(snapshot: Snapshot) -> Any:
    try:
        body = json.loads(snapshot.content)
    except ValueError:
        return None
    return body.get("project_id") if isinstance(body, dict) else None


def _task_target(shared: Shared, base_url: str, *, trashed: bool) -> Target:
    owner, key = account(OWNER, base_url), (shared.id, trashed)
    trash = shared.id if trashed else None
    before = None
    while _spare[key] and before is None:
        task_id, etag = _spare[key].pop()
        before = read_back_task(owner, task_id, trashed_in=trash, etag=etag)
        # Still A's to read is not enough: A's own requests may have moved it out of the
        # project (a stateful link hands on the ids a list showed), where the subjects do not
        # see it.
        if before.status != 200 or _project_of(before) != shared.id:
            before = None
    if before is None:
        task_id, before = new_task(owner, shared.id, trashed=trashed)
    etag = before.etag

    def read_back() -> Snapshot:
        return read_back_task(owner, task_id, trashed_in=trash, etag=etag)

    def release(unchanged: bool) -> None:
        if unchanged:
            _spare[key].append((task_id, etag))

    return Target(shared, {"id": task_id}, etag, before, read_back, on_release=release)


def make(case: schemathesis.Case, base_url: str) -> Target:
    """The objects for one replay of the case, in the shared project or a clone."""
    operation = case.operation
    path, names = operation.path, ID_PARAMETER.findall(operation.path)
    shared = shared_project(base_url)
    owner = account(OWNER, base_url)
    if path.startswith("/tasks/") and names:
        target = _task_target(shared, base_url, trashed=path in TRASH_PATHS)
    elif case.operation.label == BULK and isinstance(_get(case.body, "operations"), list):
        target = _task_target(shared, base_url, trashed=False)
        target.ids["task"] = target.path.pop("id")
    elif path.startswith("/projects/") and names:
        project = shared
        if operation.method.upper() != "GET":
            project = clones.take(base_url)
        target = Target(project, {"id": project.id})
        if "user_id" in names:
            target.path["user_id"] = project.users["V"]
        if "invitation_id" in names:
            target.path["invitation_id"] = project.invitation
        if project is not shared:
            target.before = project.pristine
            target.read_back = lambda: read_back_project(owner, project.id)
            target.on_release = lambda unchanged: clones.give_back(
                project.id, base_url, unchanged=unchanged
            )
    else:
        target = Target(shared)
    body = case.body if isinstance(case.body, dict) else {}
    labels = body.get("labels")
    if isinstance(labels, list) and labels and all(is_id(label) for label in labels):
        record(f"matrix.{operation.label}.labels")
    for name in BODY_TASK_IDS:
        if is_id(body.get(name)):
            record(f"matrix.{operation.label}.body-{name}")
            # Top-level, beside the target: a parent to move or create under, a sibling to
            # move after.
            target.ids[name] = new_task(owner, shared.id)[0]
    target.labels = fixture_labels_of_a(base_url)
    return target
