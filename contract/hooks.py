"""Schemathesis hooks for the contract run (loaded with SCHEMATHESIS_HOOKS=contract.hooks).

- `UserA`: the auth provider. It registers a fresh user A, logs in, and keeps the access token
  fresh through POST /auth/refresh/ before it expires (no long token lifetime as a shortcut).
- `task_isolation`: a custom check. For every generated request to an operation that takes a task
  id, it replays the request's body, query and headers as a second user B against a task A owns
  and against an id nobody owns: both answers must be the same error, and A's task must read back
  byte for byte unchanged. On the trash operations (restore, erase) A's task is one in A's
  trash, and "unchanged" means still in the trash, as it was. For the lists (GET /tasks/,
  GET /tasks/trash/, GET /tasks/changes/) it replays the query as B: B sees none of A's tasks
  or deleted ids (B sees only the tasks it created itself for the body check below), and a
  sync token issued to A is a 400 for B, exactly like a garbled one. The same holds for labels:
  B's requests on A's label ids answer like a missing id and leave the label as it was, B's
  GET /labels/ lists none of A's, and a task B creates cannot carry A's label (the 400 a missing
  label id gets).
- The same check for task ids in bodies (`parent_id` of POST /tasks/, `parent_id` and
  `after_id` of POST /tasks/{id}/move/, the latter on a task of B's own): B sending one of A's
  task ids there gets exactly the answer a nonexistent id gets, and A's task is unchanged.
- For the bulk write (POST /tasks/bulk/) it replays the generated batch as B with every id
  naming a task A owns, then naming an id nobody owns: each operation's result must be the same
  error (a 404 result), and A's task unchanged.

Counters go to the JSON file named by CONTRACT_STATS_FILE, so the pytest side can prove the check
and the token refresh really ran. Requests this module makes carry `X-Request-ID: isolation-...`
so the coverage report can tell them from Schemathesis' own requests.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import re
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import schemathesis
from schemathesis.specs.openapi.adapter.security import declares_security

ISOLATION_REQUEST_ID_PREFIX = "isolation-"
# Refresh when less than this share of the token's lifetime is left: a request started just
# before expiry must still arrive with a valid token.
REFRESH_WHEN_LEFT = 0.5
# Far above any id this run creates, and still a valid int64 path parameter.
MISSING_ID_OFFSET = 10**15
# Headers that differ between any two responses; everything else must match between the
# "another user's task" and the "no such task" answers.
# Hop-by-hop headers (RFC 9110 7.6.1) describe the connection, not the answer: nginx closes a
# client connection after its keepalive_requests, whichever request that happens to be.
HOP_BY_HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "te", "transfer-encoding"}
VOLATILE_HEADERS = {"date", "x-request-id", "content-length", "server", *HOP_BY_HOP_HEADERS}

_lock = threading.RLock()
_stats: Counter[str] = Counter()


def _record(*keys: str) -> None:
    with _lock:
        for key in keys:
            _stats[key] += 1
        path = os.environ.get("CONTRACT_STATS_FILE")
        if path:
            tmp = f"{path}.tmp"
            with open(tmp, "w") as handle:
                json.dump(dict(_stats), handle, indent=1, sort_keys=True)
            os.replace(tmp, path)


_local = threading.local()


def _http() -> requests.Session:
    """One keep-alive session per thread: the check sends thousands of small requests."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def _request_id() -> str:
    return f"{ISOLATION_REQUEST_ID_PREFIX}{uuid.uuid4().hex}"


def _claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified: only to know when our own token expires."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class Account:
    """A user registered for this run, with an access token that is refreshed before it expires."""

    def __init__(self, label: str, base_url: str) -> None:
        self.label = label
        self.base_url = base_url.rstrip("/")
        self.email = f"contract-{label.lower()}-{uuid.uuid4().hex[:12]}@example.com"
        self.password = secrets.token_urlsafe(18)
        self._access = ""
        self._refresh = ""
        self._refresh_at = 0.0
        self._lock = threading.Lock()
        self.issued_tokens: set[str] = set()
        self._register()
        self._login()

    def _post(self, path: str, body: dict[str, str]) -> requests.Response:
        return _http().post(
            f"{self.base_url}{path}",
            json=body,
            headers={"X-Request-ID": _request_id()},
            timeout=10,
        )

    def _register(self) -> None:
        response = self._post("/auth/register/", {"email": self.email, "password": self.password})
        if response.status_code != 201:
            raise RuntimeError(
                f"registering user {self.label} failed: {response.status_code} {response.text}"
            )
        _record(f"auth.register.{self.label}")

    def _login(self) -> None:
        response = self._post("/auth/login/", {"email": self.email, "password": self.password})
        if response.status_code != 200:
            raise RuntimeError(
                f"logging in user {self.label} failed: {response.status_code} {response.text}"
            )
        self._store(response.json())
        _record(f"auth.login.{self.label}")

    def _renew(self) -> None:
        response = self._post("/auth/refresh/", {"refresh": self._refresh})
        if response.status_code != 200:
            raise RuntimeError(
                f"refreshing the token of user {self.label} failed: "
                f"{response.status_code} {response.text}"
            )
        self._store(response.json())
        _record(f"auth.refresh.{self.label}")

    def _store(self, tokens: dict[str, str]) -> None:
        self._access, self._refresh = tokens["access"], tokens["refresh"]
        self.issued_tokens.add(self._access)
        claims = _claims(self._access)
        lifetime = claims["exp"] - claims["iat"]
        # The server's clock, not ours: the token's own iat/exp pair says how long it lives.
        self._refresh_at = time.monotonic() + lifetime * (1 - REFRESH_WHEN_LEFT)

    def access_token(self) -> str:
        with self._lock:
            if time.monotonic() >= self._refresh_at:
                self._renew()
            return self._access

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {
            "Authorization": f"Bearer {self.access_token()}",
            "X-Request-ID": _request_id(),
            **kwargs.pop("headers", {}),
        }
        return _http().request(
            method, f"{self.base_url}{path}", headers=headers, timeout=10, **kwargs
        )


_accounts: dict[str, Account] = {}


def account(label: str, base_url: str) -> Account:
    with _lock:
        if label not in _accounts:
            _accounts[label] = Account(label, base_url)
            if label == "B" and os.environ.get("CONTRACT_WEBHOOK_RECEIVER") == "1":
                _subscribe(_accounts[label])
        return _accounts[label]


# --- webhook deliveries -----------------------------------------------------------------------
# With CONTRACT_WEBHOOK_RECEIVER=1 (a worker runs beside the server), user B gets a webhook for
# every event type, to a loopback receiver in this process. A's generated requests write
# thousands of tasks and labels (and webhooks of A's own); none of their events may reach B's
# receiver. B's own tasks (made by the body checks) must each be announced there. Checked at
# the end of the run, once the worker has caught up: stats webhooks.B.received/foreign/missing.

WEBHOOK_DRAIN_TIMEOUT = 60.0
_receiver: Any = None
_webhooks_of_b: set[int] = set()


def _subscribe(owner: Account) -> None:
    global _receiver
    from tests.support.receiver import start_receiver

    _receiver = start_receiver()
    created = owner.request(
        "POST",
        "/webhooks/",
        json={
            "url": _receiver.url,
            "event_types": ["task.created", "task.updated", "task.deleted", "label.created"],
        },
    )
    if created.status_code != 201:
        raise AssertionError(
            f"user {owner.label} could not create a webhook: {created.status_code} {created.text}"
        )
    _webhooks_of_b.add(created.json()["id"])
    atexit.register(_check_deliveries_of_b)


def _check_deliveries_of_b() -> None:
    """Every event B's receiver got is about one of B's own tasks; each task B created was
    announced (waits for the worker, up to WEBHOOK_DRAIN_TIMEOUT)."""
    deadline = time.monotonic() + WEBHOOK_DRAIN_TIMEOUT
    while True:
        with _receiver.lock:
            events = [received.json for received in _receiver.received]
        created = {e["data"]["id"] for e in events if e.get("type") == "task.created"}
        if _own_ids_of_b <= created or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    foreign = [e for e in events if e.get("data", {}).get("id") not in _own_ids_of_b]
    with _lock:
        _stats["webhooks.B.received"] += len(events)
        _stats["webhooks.B.foreign"] += len(foreign)
        _stats["webhooks.B.missing"] += len(_own_ids_of_b - created)
    _record("webhooks.B.checked")


def _base_url(case: schemathesis.Case) -> str:
    return os.environ.get("CONTRACT_BASE_URL") or case.operation.schema.get_base_url()


@schemathesis.auth(refresh_interval=None).apply_to(lambda ctx: declares_security(ctx.operation))
class UserA:
    """Every secured operation runs as user A. No caching layer: `Account` refreshes by expiry."""

    def get(self, case: schemathesis.Case, ctx: schemathesis.AuthContext) -> str:
        return account("A", _base_url(case)).access_token()

    def set(self, case: schemathesis.Case, data: str, ctx: schemathesis.AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def before_call(ctx: schemathesis.HookContext, case: schemathesis.Case, kwargs: Any) -> None:
    """Send A's current access token in place of an older one of A's.

    The coverage phase builds every case of an operation, with A's token of that moment, before
    its first request; a phase that outlasts the token (the bulk write's, on PostgreSQL behind
    nginx, took 60 s) would send expired tokens the provider never got the chance to refresh.
    Only A's own earlier tokens are swapped: a missing, garbled or other token is sent as is.
    """
    header = case.headers.get("Authorization") if case.headers else None
    owner = _accounts.get("A")
    if owner is None or not isinstance(header, str) or not header.startswith("Bearer "):
        return
    token = header.removeprefix("Bearer ")
    if token in owner.issued_tokens:
        current = owner.access_token()
        if token != current:
            case.headers["Authorization"] = f"Bearer {current}"
            _record("auth.token_renewed_before_call")


# --- headers the transport owns ----------------------------------------------------------------

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


@schemathesis.hook
def map_headers(ctx: schemathesis.HookContext, headers: dict[str, Any] | None) -> Any:
    if not headers:
        return headers
    return {name: value for name, value in headers.items() if name.lower() not in TRANSPORT_HEADERS}


# --- test data for the trash ---------------------------------------------------------------

# A generated id is almost never one of A's tasks, and restore and erase act only on a task in
# A's trash, so without help they would only ever answer 404. Half of their generated ids (the
# even ones) are replaced by a task A has just created and deleted: a real fixture, like a
# client's, made through the API.


def _trashed_task_of_a(base_url: str) -> int:
    owner = account("A", base_url)
    with _lock:
        task_id, _snapshot = _victim_task(owner, trashed=True)
    _record("fixture.trashed-task")
    return task_id


@schemathesis.hook
def map_path_parameters(ctx: schemathesis.HookContext, path_parameters: dict[str, Any]) -> Any:
    operation = ctx.operation
    if operation is None or operation.path not in TRASH_PATHS or not path_parameters:
        return path_parameters
    generated = path_parameters.get("id")
    if not isinstance(generated, int) or generated % 2:
        return path_parameters
    base_url = os.environ.get("CONTRACT_BASE_URL") or operation.schema.get_base_url()
    return {**path_parameters, "id": _trashed_task_of_a(base_url)}


# --- test data for labels -----------------------------------------------------------------

# A generated label id is almost never one of A's labels, so a task write that carries labels
# would only ever answer 400. In requests with an even number of labels, the generated ids are
# replaced by labels A has created: the rest keep testing the refusal.
LABELLED_WRITES = ("POST /tasks/", "PUT /tasks/{id}/", "PATCH /tasks/{id}/")
FIXTURE_LABELS = 3
_labels_of_a: dict[str, list[int]] = {}


def _fixture_labels_of_a(base_url: str) -> list[int]:
    with _lock:
        if base_url not in _labels_of_a:
            owner = account("A", base_url)
            _labels_of_a[base_url] = [
                _new_label(owner, "fixture")[0] for _ in range(FIXTURE_LABELS)
            ]
        return _labels_of_a[base_url]


def _is_id(value: Any) -> bool:
    return type(value) in (int, float) and value == int(value) and 1 <= value < 2**63


@schemathesis.hook
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
    base_url = os.environ.get("CONTRACT_BASE_URL") or operation.schema.get_base_url()
    fixtures = _fixture_labels_of_a(base_url)
    _record("fixture.labels")
    return {**body, "labels": [fixtures[i % len(fixtures)] for i in range(len(labels))]}


# --- the isolation check -------------------------------------------------------------------


@dataclass
class Answer:
    """What a request got back, reduced to what must not depend on whose id it was."""

    status: int
    headers: dict[str, str]
    body: bytes
    curl: str

    @classmethod
    def of(cls, response: requests.Response, curl: str) -> Answer:
        # Compared byte for byte: the not-found problem does not name the id, so a body that
        # differs between "not yours" and "does not exist" is a leak.
        headers = {
            name.lower(): value
            for name, value in response.headers.items()
            if name.lower() not in VOLATILE_HEADERS
        }
        return cls(response.status_code, headers, response.content, curl)

    def same_as(self, other: Answer) -> bool:
        return (self.status, self.headers, self.body) == (other.status, other.headers, other.body)

    def describe(self) -> str:
        return f"{self.status} {self.headers}\n{self.body[:500]!r}\n  reproduce: {self.curl}"


def _task_id_parameter(case: schemathesis.Case) -> str | None:
    """The path parameter naming a task, for operations under /tasks/{...}."""
    names = re.findall(r"\{([^}]+)\}", case.operation.path)
    if case.operation.path.startswith("/tasks/") and len(names) == 1:
        return names[0]
    return None


LIST_PATHS = ("/tasks/", "/tasks/trash/", "/tasks/changes/", "/labels/", "/webhooks/")
# Operations on a task in the trash: their victim is one of A's deleted tasks.
TRASH_PATHS = ("/tasks/{id}/restore/", "/tasks/trash/{id}/")


def _is_list_operation(case: schemathesis.Case) -> bool:
    return case.operation.path in LIST_PATHS and case.method.upper() == "GET"


def _acts_on_trash(case: schemathesis.Case) -> bool:
    return case.operation.path in TRASH_PATHS


def _replay_as(
    case: schemathesis.Case,
    intruder: Account,
    base_url: str,
    *,
    path_parameters: dict[str, Any] | None = None,
    extra_headers: dict[str, str] | None = None,
    body: Any = None,
) -> tuple[requests.Response, str]:
    """Send the generated request again, as `intruder`: same body, query and other headers."""
    probe = case.derive()
    if path_parameters:
        probe.path_parameters.update(path_parameters)
    if body is not None:
        probe.body = body
    for name in ("Authorization", "X-Request-ID", *(extra_headers or {})):
        probe.headers.pop(name, None)
    probe.headers["Authorization"] = f"Bearer {intruder.access_token()}"
    probe.headers["X-Request-ID"] = _request_id()
    probe.headers.update(extra_headers or {})
    kwargs = probe.as_transport_kwargs(base_url=base_url)
    kwargs.pop("auth", None)
    kwargs.pop("timeout", None)
    response = _http().request(**kwargs, timeout=10)
    return response, probe.as_curl_command(base_url=base_url)


@dataclass
class Snapshot:
    """What A can read of one of A's tasks: the task (live or in the trash) and its ETag."""

    status: int
    content: bytes
    etag: str | None

    def describe(self) -> str:
        return f"{self.status} ETag={self.etag} {self.content!r}"


def _victim_task(owner: Account, *, trashed: bool = False) -> tuple[int, Snapshot]:
    created = owner.request(
        "POST",
        "/tasks/",
        json={
            "title": "isolation victim",
            "description": "B must never see or change this.",
            "priority": "high",
            "due_date": "2031-05-17",
        },
    )
    if created.status_code != 201:
        raise AssertionError(
            f"user A could not create a task: {created.status_code} {created.text[:500]}"
        )
    task_id = created.json()["id"]
    _known_ids_of_a.add(task_id)
    snapshot = _read_back(owner, task_id)
    if snapshot.status != 200:
        raise AssertionError(f"user A could not read task {task_id}: {snapshot.status}")
    if trashed:
        deleted = owner.request("DELETE", f"/tasks/{task_id}/")
        if deleted.status_code != 204:
            raise AssertionError(f"user A could not delete task {task_id}: {deleted.status_code}")
        snapshot = _read_back(owner, task_id, trashed=True, etag=snapshot.etag)
        if snapshot.status != 200:
            raise AssertionError(f"task {task_id} of user A is not in A's trash")
    return task_id, snapshot


def _new_label(owner: Account, purpose: str) -> tuple[int, Snapshot]:
    created = owner.request(
        "POST", "/labels/", json={"name": f"{purpose} {uuid.uuid4().hex[:12]}", "color": "#aa0000"}
    )
    if created.status_code != 201:
        raise AssertionError(
            f"user A could not create a label: {created.status_code} {created.text[:500]}"
        )
    label_id = created.json()["id"]
    return label_id, _read_back_label(owner, label_id)


def _read_back_label(owner: Account, label_id: int) -> Snapshot:
    response = owner.request("GET", f"/labels/{label_id}/")
    return Snapshot(response.status_code, response.content, None)


def _read_back(
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


def _unchanged(before: Snapshot, after: Snapshot) -> bool:
    return (before.status, before.content, before.etag) == (
        after.status,
        after.content,
        after.etag,
    )


_known_ids_of_a: set[int] = set()


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


def _remember_ids_of_a(response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Ids of tasks user A's generated requests created (stateful runs reuse them as path ids)."""
    task_id = _remembered(response, case, "POST /tasks/", 201, "id")
    if isinstance(task_id, int):
        _known_ids_of_a.add(task_id)


def _conditional_header(case: schemathesis.Case) -> str:
    return "If-None-Match" if case.method.upper() == "GET" else "If-Match"


def _check_one_id(
    case: schemathesis.Case,
    parameter: str,
    owner: Account,
    intruder: Account,
    base_url: str,
    task_id: int,
    before: Snapshot,
    label: str,
    *,
    noun: str = "task",
    read_back: Callable[[], Snapshot] | None = None,
) -> None:
    """B's request on A's `task_id` (or label id, with `noun` and `read_back`) answers exactly
    like one on a missing id, and leaves it unchanged."""
    _record(f"isolation.{case.operation.label}.{label}")
    missing_id = MISSING_ID_OFFSET + task_id
    pairs = [("generated headers", {})]
    if before.etag:
        # The conditional headers a client would send if it had seen the task: a 304 or 412
        # instead of 404 would confirm that the id exists.
        pairs.append(("matching ETag", {_conditional_header(case): before.etag}))
    for variant, extra in pairs:
        theirs, nobodys = (
            Answer.of(
                *_replay_as(
                    case, intruder, base_url, path_parameters={parameter: id_}, extra_headers=extra
                )
            )
            for id_ in (task_id, missing_id)
        )
        if not theirs.same_as(nobodys):
            raise AssertionError(
                f"User B can tell that {noun} {task_id} of user A exists ({variant}): "
                f"{case.method} on A's id and on a nonexistent id answer differently.\n"
                f"A's id:\n  {theirs.describe()}\nNonexistent id:\n  {nobodys.describe()}"
            )
        if theirs.status < 400:
            raise AssertionError(
                f"User B got {theirs.status} for {case.method} on {noun} {task_id} of user A "
                f"({variant}); expected the 404 a nonexistent id gets.\n  {theirs.describe()}"
            )
        if read_back is not None:
            after = read_back()
        else:
            after = _read_back(owner, task_id, trashed=_acts_on_trash(case), etag=before.etag)
        if not _unchanged(before, after):
            raise AssertionError(
                f"The {noun} {task_id} of user A changed after user B's {case.method} "
                f"({variant}).\n"
                f"Before: {before.describe()}\nAfter:  {after.describe()}\n"
                f"B's request: {theirs.curl}"
            )


# Tasks B created itself (to move them): B's lists may show these, and only these.
_own_ids_of_b: set[int] = set()

# Body fields holding a task id, per operation: B naming A's task there must look like a miss.
TASK_ID_BODY_FIELDS = {
    "POST /tasks/": ("parent_id",),
    "POST /tasks/{id}/move/": ("parent_id", "after_id"),
}


def _check_body_ids(
    case: schemathesis.Case, owner: Account, intruder: Account, base_url: str
) -> None:
    fields = TASK_ID_BODY_FIELDS.get(case.operation.label, ())
    if not fields or not isinstance(case.body, dict):
        return
    path_parameters = {}
    parameter = _task_id_parameter(case)
    if parameter is not None:
        # B moves a task of B's own, so the request gets as far as the body.
        own = intruder.request("POST", "/tasks/", json={"title": "B's own task"}).json()["id"]
        _own_ids_of_b.add(own)
        path_parameters = {parameter: own}
    task_id, before = _victim_task(owner)
    for field in fields:
        _record(f"isolation.{case.operation.label}.body-{field}")
        # Without parent_id a move checks after_id among the current siblings.
        generated = {k: v for k, v in case.body.items() if field == "parent_id" or k != "parent_id"}
        theirs, nobodys = (
            Answer.of(
                *_replay_as(
                    case,
                    intruder,
                    base_url,
                    path_parameters=path_parameters,
                    # A fresh key: the two replays must not be taken for retries of each other.
                    extra_headers={"If-Match": "*", "Idempotency-Key": uuid.uuid4().hex},
                    body={**generated, field: id_},
                )
            )
            for id_ in (task_id, MISSING_ID_OFFSET + task_id)
        )
        if not theirs.same_as(nobodys) or theirs.status < 400:
            raise AssertionError(
                f"User B can tell that task {task_id} of user A exists ({field} in the body): "
                f"{case.method} with A's id and with a nonexistent id answer differently.\n"
                f"A's id:\n  {theirs.describe()}\nNonexistent id:\n  {nobodys.describe()}"
            )
        after = _read_back(owner, task_id, etag=before.etag)
        if not _unchanged(before, after):
            raise AssertionError(
                f"Task {task_id} of user A changed after user B named it as {field}.\n"
                f"Before: {before.describe()}\nAfter:  {after.describe()}\n"
                f"B's request: {theirs.curl}"
            )


# --- the bulk write -------------------------------------------------------------------------

BULK_PATH = "/tasks/bulk/"
BULK_MAX_OPERATIONS = 100
# Generated updates and deletes kept in a probe. Each is a write the server runs twice (A's id,
# then a missing one): all 100 of a near-boundary batch made the bulk operation's coverage phase
# outlast a 60 s access token on PostgreSQL behind nginx, and ten already try every shape.
BULK_PROBE_GENERATED = 10
BULK_ID_OPS = ("update", "delete")


def _is_bulk_operation(case: schemathesis.Case) -> bool:
    return case.operation.path == BULK_PATH and case.method.upper() == "POST"


def _bulk_probe(body: Any, task_id: int, etag: str | None) -> Any:
    """The generated batch as B sends it, every operation naming `task_id`.

    Its first updates and deletes keep their generated `body` and `if_match`; creates are left out
    (B creates nothing, so B's lists stay empty for _check_list). Appended: a plain update and
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


def _replay_bulk_as(
    case: schemathesis.Case, intruder: Account, base_url: str, body: Any
) -> tuple[requests.Response, str]:
    probe = case.derive()
    probe.body = body
    for name in ("Authorization", "X-Request-ID"):
        probe.headers.pop(name, None)
    probe.headers["Authorization"] = f"Bearer {intruder.access_token()}"
    probe.headers["X-Request-ID"] = _request_id()
    if "Idempotency-Key" in probe.headers:
        # A fresh key per probe: the second probe's other ids would otherwise be a 422.
        probe.headers["Idempotency-Key"] = uuid.uuid4().hex
    kwargs = probe.as_transport_kwargs(base_url=base_url)
    kwargs.pop("auth", None)
    kwargs.pop("timeout", None)
    response = _http().request(**kwargs, timeout=10)
    return response, probe.as_curl_command(base_url=base_url)


def _bulk_results(answer: Answer) -> list[Any] | None:
    if answer.status != 200:
        return None
    try:
        results = json.loads(answer.body)["results"]
    except (ValueError, KeyError, TypeError):
        return None
    return results if isinstance(results, list) else None


def _check_bulk(case: schemathesis.Case, owner: Account, intruder: Account, base_url: str) -> None:
    task_id, before = _victim_task(owner)
    _record(f"isolation.{case.operation.label}.victim")
    missing_id = MISSING_ID_OFFSET + task_id
    theirs, nobodys = (
        Answer.of(
            *_replay_bulk_as(case, intruder, base_url, _bulk_probe(case.body, id_, before.etag))
        )
        for id_ in (task_id, missing_id)
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
        _record(f"isolation.{case.operation.label}.results")
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
    after = _read_back(owner, task_id)
    if not _unchanged(before, after):
        raise AssertionError(
            f"Task {task_id} of user A changed after user B's bulk write.\n"
            f"Before: {before.describe()}\nAfter:  {after.describe()}\nB's request: {theirs.curl}"
        )


@schemathesis.check
def task_isolation(ctx: schemathesis.CheckContext, response: schemathesis.Response, case) -> None:
    """User B cannot read, change, delete or list user A's tasks, nor learn that they exist."""
    _remember_ids_of_a(response, case)
    _remember_tokens_of_a(response, case)
    label_parameter = _label_id_parameter(case)
    if label_parameter is not None:
        _check_label(case, label_parameter)
        return
    webhook_parameter = _webhook_id_parameter(case)
    if webhook_parameter is not None:
        _check_webhook(case, webhook_parameter)
        return
    if _carries_labels(case):
        _check_labels_in_body(case)
    parameter = _task_id_parameter(case)
    if case.operation.label in TASK_ID_BODY_FIELDS:
        base_url = _base_url(case)
        with _lock:
            _check_body_ids(case, account("A", base_url), account("B", base_url), base_url)
    if parameter is None and not _is_list_operation(case) and not _is_bulk_operation(case):
        return
    base_url = _base_url(case)
    owner, intruder = account("A", base_url), account("B", base_url)
    with _lock:
        if _is_list_operation(case):
            _check_list(case, intruder, base_url)
            return
        if _is_bulk_operation(case):
            _check_bulk(case, owner, intruder, base_url)
            return
        # A task A owns right now (in A's trash for restore and erase), so every generated
        # request is tried against a task it could act on.
        trashed = _acts_on_trash(case)
        task_id, before = _victim_task(owner, trashed=trashed)
        _check_one_id(case, parameter, owner, intruder, base_url, task_id, before, "victim")
        # The id the generated request itself used, when it names one of A's tasks (stateful
        # links from taskCreate): after A's own request it may be changed or gone.
        generated = case.path_parameters.get(parameter)
        if isinstance(generated, int) and generated in _known_ids_of_a:
            current = _read_back(owner, generated, trashed=trashed)
            if current.status == 200:
                _check_one_id(
                    case, parameter, owner, intruder, base_url, generated, current, "generated-id"
                )


def _label_id_parameter(case: schemathesis.Case) -> str | None:
    names = re.findall(r"\{([^}]+)\}", case.operation.path)
    if case.operation.path.startswith("/labels/") and len(names) == 1:
        return names[0]
    return None


def _check_label(case: schemathesis.Case, parameter: str) -> None:
    """B's request on a label of A answers like one on a missing id and changes nothing."""
    base_url = _base_url(case)
    owner, intruder = account("A", base_url), account("B", base_url)
    with _lock:
        label_id, before = _new_label(owner, "isolation victim")
        _check_one_id(
            case,
            parameter,
            owner,
            intruder,
            base_url,
            label_id,
            before,
            "victim",
            noun="label",
            read_back=lambda: _read_back_label(owner, label_id),
        )
        # A keeps no more labels than the run needs (a user may have at most 500).
        owner.request("DELETE", f"/labels/{label_id}/")


def _webhook_id_parameter(case: schemathesis.Case) -> str | None:
    names = re.findall(r"\{([^}]+)\}", case.operation.path)
    if case.operation.path.startswith("/webhooks/") and len(names) == 1:
        return names[0]
    return None


def _new_webhook(owner: Account) -> tuple[int, Snapshot]:
    # Inactive, to a port nothing serves: it exists to be read back, never to receive.
    created = owner.request(
        "POST",
        "/webhooks/",
        json={"url": "http://127.0.0.1:9/victim", "event_types": ["task.created"], "active": False},
    )
    if created.status_code != 201:
        raise AssertionError(
            f"user A could not create a webhook: {created.status_code} {created.text[:500]}"
        )
    webhook_id = created.json()["id"]
    return webhook_id, _read_back_webhook(owner, webhook_id)


def _read_back_webhook(owner: Account, webhook_id: int) -> Snapshot:
    """The webhook as A reads it, and its delivery log (B's test event would add to it)."""
    webhook = owner.request("GET", f"/webhooks/{webhook_id}/")
    log = owner.request("GET", f"/webhooks/{webhook_id}/deliveries/")
    return Snapshot(webhook.status_code, webhook.content + b"\n" + log.content, None)


def _check_webhook(case: schemathesis.Case, parameter: str) -> None:
    """B's request on a webhook of A answers like one on a missing id and changes nothing:
    not the webhook, not its secret (a rotation changes `updated_at`), not its log."""
    base_url = _base_url(case)
    # The victims belong to a third user: A's own generated requests may fill A's 10 webhooks.
    owner, intruder = account("C", base_url), account("B", base_url)
    with _lock:
        webhook_id, before = _new_webhook(owner)
        _check_one_id(
            case,
            parameter,
            owner,
            intruder,
            base_url,
            webhook_id,
            before,
            "victim",
            noun="webhook",
            read_back=lambda: _read_back_webhook(owner, webhook_id),
        )
        # A keeps no more webhooks than the run needs (a user may have at most 10).
        owner.request("DELETE", f"/webhooks/{webhook_id}/")


def _carries_labels(case: schemathesis.Case) -> bool:
    body = case.body if isinstance(case.body, dict) else {}
    return case.operation.label == "POST /tasks/" and isinstance(body.get("labels"), list)


def _check_labels_in_body(case: schemathesis.Case) -> None:
    """A task B creates with A's label id is refused exactly like one with a missing id."""
    base_url = _base_url(case)
    owner, intruder = account("A", base_url), account("B", base_url)
    with _lock:
        label_id, before = _new_label(owner, "isolation victim")
        _record(f"isolation.{case.operation.label}.label-in-body")
        theirs, nobodys = (
            Answer.of(*_replay_as(case, intruder, base_url, body={**case.body, "labels": [id_]}))
            for id_ in (label_id, MISSING_ID_OFFSET + label_id)
        )
        if not theirs.same_as(nobodys) or theirs.status != 400:
            raise AssertionError(
                f"User B's task with label {label_id} of user A is not refused like one with a "
                f"missing label.\nA's label:\n  {theirs.describe()}\n"
                f"Missing label:\n  {nobodys.describe()}"
            )
        after = _read_back_label(owner, label_id)
        if not _unchanged(before, after):
            raise AssertionError(f"Label {label_id} of user A changed: {after.describe()}")
        owner.request("DELETE", f"/labels/{label_id}/")


_known_tokens_of_a: set[str] = set()


def _remember_tokens_of_a(response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Sync tokens the server issued to A (stateful links hand them to later requests)."""
    token = _remembered(response, case, "GET /tasks/changes/", 200, "sync_token")
    if isinstance(token, str):
        _known_tokens_of_a.add(token)


def _listed_ids(body: dict[str, Any]) -> list[Any]:
    items = [*body.get("results", []), *body.get("tasks", [])]
    return [item.get("id") for item in items if isinstance(item, dict)] + list(
        body.get("deleted", [])
    )


def _check_list(case: schemathesis.Case, intruder: Account, base_url: str) -> None:
    response, curl = _replay_as(case, intruder, base_url)
    label = case.operation.label
    _record(f"isolation.{label}.list")
    token = (case.query or {}).get("sync_token")
    if isinstance(token, str) and token in _known_tokens_of_a:
        _record(f"isolation.{label}.token-of-a")
        problem = _problem(response) if response.status_code == 400 else {}
        fields = [error.get("field") for error in problem.get("errors", [])]
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
        strangers = sorted(set(ids) - _webhooks_of_b)
        if strangers:
            raise AssertionError(f"User B's {label} shows webhooks B never created: {strangers}")
        return
    leaked = sorted(set(ids) & _known_ids_of_a)
    if leaked:
        raise AssertionError(f"User B's {label} shows tasks of user A: {leaked}\n  {curl}")
    # B creates tasks of its own (the body checks) but never a label.
    own = set() if label == "GET /labels/" else _own_ids_of_b
    strangers = [item_id for item_id in ids if item_id not in own]
    if strangers:
        raise AssertionError(f"User B's {label} shows items B never created: {strangers}\n  {curl}")


# --- stale tokens ---------------------------------------------------------------------------


@schemathesis.check
def auth_token_stays_valid(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case
) -> None:
    """A rejected access token that is A's current one means the refresh logic failed."""
    # Only the access token's own rejection counts, not a bad refresh token in a request body.
    if response.status_code != 401:
        return
    if _problem(response).get("type") != "/problems/not-authenticated":
        return
    header = case.headers.get("Authorization", "")
    tokens = _accounts["A"].issued_tokens if "A" in _accounts else set()
    if header.startswith("Bearer ") and header.removeprefix("Bearer ") in tokens:
        _record("auth.stale_token_401")
        raise AssertionError(
            "A request with user A's access token got 401: the token expired or was revoked "
            f"while in use.\n{response.content[:500]!r}"
        )


# --- why schema-valid data was refused ---------------------------------------------------------

# JSON Schema cannot say "the account's real password", "not a common password", "an email
# nobody has yet", "the ETag the task has now" or "a cursor the server issued", so a schema-valid
# request may rightly get these answers. schemathesis.toml adds the statuses to the expected
# ones of exactly these operations, and this check narrows them back to these reasons: any other
# field or problem type on a schema-valid request still fails.
DUE_TIME_400 = {
    ("time_zone", "unknown_zone"),
    ("time_zone", "without_due_at"),
    ("due_at", "conflict"),
    ("due_at", "out_of_range"),
}
WEBHOOK_URL_400 = {
    ("url", "unresolvable"),
    ("url", "forbidden_address"),
    ("url", "scheme"),
    ("url", "invalid"),
}
EXPLAINED_400 = {
    "POST /auth/register/": {
        ("email", "unique"),
        ("password", "password_too_common"),
        ("password", "password_entirely_numeric"),
        ("password", "password_too_similar"),
        ("password", "password_too_short"),
    },
    "POST /auth/password/": {
        ("current_password", "invalid"),
        ("new_password", "password_too_common"),
        ("new_password", "password_entirely_numeric"),
        ("new_password", "password_too_similar"),
        ("new_password", "password_too_short"),
    },
    "DELETE /auth/me/": {("password", "invalid")},
    "GET /tasks/": {("cursor", "invalid")},
    "GET /tasks/trash/": {("cursor", "invalid")},
    "GET /tasks/changes/": {("sync_token", "invalid")},
    # Due times (tasks/due.py), labels and subtasks: rules JSON Schema cannot state. A
    # generated label id is rarely one of the user's labels (map_body supplies real ones for
    # lists of two or more), a generated task id rarely one of the user's live tasks, or a
    # fitting one, and a generated label name may repeat one the run already used.
    "POST /tasks/": DUE_TIME_400
    | {("labels", "does_not_exist"), ("parent_id", "does_not_exist"), ("parent_id", "max_depth")},
    "PUT /tasks/{id}/": DUE_TIME_400 | {("labels", "does_not_exist")},
    "PATCH /tasks/{id}/": DUE_TIME_400 | {("labels", "does_not_exist")},
    "POST /tasks/{id}/move/": {
        ("parent_id", "does_not_exist"),
        ("parent_id", "cycle"),
        ("parent_id", "max_depth"),
        ("after_id", "does_not_exist"),
    },
    "POST /labels/": {("name", "unique"), (None, "limit")},
    "PATCH /labels/{id}/": {("name", "unique")},
    # What a webhook URL may point at needs DNS (webhooks/ssrf.py); the run runs with loopback
    # receivers allowed, so a generated URL is refused only for these reasons.
    "POST /webhooks/": WEBHOOK_URL_400 | {(None, "limit")},
    "PATCH /webhooks/{id}/": WEBHOOK_URL_400,
    "GET /webhooks/{id}/deliveries/": {("cursor", "invalid")},
}
CONDITIONAL_WRITES = {
    "PUT /tasks/{id}/",
    "PATCH /tasks/{id}/",
    "DELETE /tasks/{id}/",
    "POST /tasks/{id}/restore/",
    "POST /tasks/{id}/move/",
}


def _problem(response: schemathesis.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# The coverage phase's scenarios that generate valid data (schemathesis.generation.meta.
# CoverageScenario, "Positive scenarios").
VALID_SCENARIOS = {
    "example_value", "default_value", "enum_value", "const_value", "valid_string",
    "valid_number", "valid_boolean", "valid_array", "valid_object", "null_value",
    "minimum_length_string", "maximum_length_string", "near_boundary_length_string",
    "minimum_value", "maximum_value", "near_boundary_number", "maximum_items_array",
    "near_boundary_items_array", "enum_value_items_array", "object_only_required",
    "object_required_and_optional", "object_additional_property", "default_positive_test",
}  # fmt: skip


def _is_positive(meta: Any) -> bool:
    """Whether the case is meant to be valid. Schemathesis 4.32 labels some cases positive that
    break the schema: in the coverage phase, scenarios such as an array with an item below its
    minimum or with more items than its maxItems (there the scenario decides); in the fuzzing
    phase, cases with schema mutations."""
    if not meta.generation.mode.is_positive:
        return False
    data = getattr(meta.phase, "data", None)
    # The fuzzing phase does the same with cases it mutated to break the schema (seen: a
    # negated `pattern` of Idempotency-Key); every mutation operator breaks it.
    if getattr(data, "mutations", None):
        return False
    scenario = getattr(data, "scenario", None)
    return scenario is None or str(scenario) in VALID_SCENARIOS


@schemathesis.check
def refusals_have_a_documented_reason(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case
) -> None:
    """400/412/422 answers that schemathesis.toml expects are allowed only for their reason."""
    meta = case.meta
    if meta is None:
        return
    label = case.operation.label
    status = response.status_code
    problem = _problem(response)
    positive = _is_positive(meta)
    if positive and status == 400 and label in EXPLAINED_400:
        found = {(error.get("field"), error.get("code")) for error in problem.get("errors", [])}
        unexplained = found - EXPLAINED_400[label]
        if not found or unexplained:
            reasons = sorted(map(str, unexplained or found))
            raise AssertionError(
                f"Schema-valid request refused with 400 for {reasons}; the contract's schema "
                f"should reject what the server rejects.\n{problem}"
            )
    if status == 412 and label in CONDITIONAL_WRITES:
        if_match = case.headers.get("If-Match")
        if if_match is None or if_match.strip() == "*":
            raise AssertionError(f"412 without a stale If-Match (If-Match: {if_match!r})")
    replayed_key = "Idempotency-Key" in case.headers and problem.get("type") == (
        "/problems/idempotency-key-reused"
    )
    if positive and status == 422 and label in IDEMPOTENT_WRITES and not replayed_key:
        raise AssertionError(f"Schema-valid task refused with 422: {problem}")
    if label == BULK_LABEL and status == 200:
        _check_bulk_results(response, case)


IDEMPOTENT_WRITES = {"POST /tasks/", "POST /tasks/bulk/"}
BULK_LABEL = "POST /tasks/bulk/"
# What a single operation of a batch may be refused with, each the single-task operation's own.
BULK_REFUSALS = {400, 404, 409, 412}
CONTRACT = "openapi.yaml"
_BULK_VALIDATOR: Any = None


def _bulk_operation_validator() -> Any:
    """A validator of one operation against the contract's TaskBulkOperation (built once)."""
    global _BULK_VALIDATOR
    if _BULK_VALIDATOR is None:
        import jsonschema
        import yaml

        contract = yaml.safe_load((Path(__file__).resolve().parent.parent / CONTRACT).read_text())
        # The contract document as the root, so its #/components/... references resolve.
        schema = {**contract, "$ref": "#/components/schemas/TaskBulkOperation"}
        checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
        _BULK_VALIDATOR = jsonschema.Draft202012Validator(schema, format_checker=checker)
    return _BULK_VALIDATOR


# An operation's 400 a schema-valid body may rightly get: the reasons its single-task
# operation may give (EXPLAINED_400: labels, due times, parents the schema cannot state).
BULK_OPERATION_LABELS = {"create": "POST /tasks/", "update": "PATCH /tasks/{id}/"}


def _explained_bulk_refusal(operation: Any, result: dict[str, Any]) -> bool:
    label = BULK_OPERATION_LABELS.get(operation.get("op")) if isinstance(operation, dict) else None
    body = result.get("body")
    errors = body.get("errors", []) if isinstance(body, dict) else []
    found = {(error.get("field"), error.get("code")) for error in errors if isinstance(error, dict)}
    return label is not None and bool(found) and found <= EXPLAINED_400[label]


def _check_bulk_results(response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Each operation of a 200 bulk write is judged against the contract on its own.

    An operation the contract's schema accepts gets no 400 result; one it rejects gets a
    refusal (its 400, or the 404 or 412 checked first as in PATCH): a body that breaks TaskCreate
    or TaskPatch is that operation's result, not the call's, so schemathesis.toml lets
    negative_data_rejection accept the 200 and this narrows it back. Schemathesis' own label of
    the case is not used: inside the `oneOf` of operations, 4.32 labels cases "positive" whose
    operations break the schema (a create's `description` a boolean after a mutation; a title
    of one U+001C character, which the title's pattern refuses).
    """
    try:
        results = json.loads(response.content)["results"]
        operations = case.body["operations"]
    except (ValueError, KeyError, TypeError):
        return  # response_schema_conformance reports a malformed 200
    validator = _bulk_operation_validator()
    for index, (operation, result) in enumerate(zip(operations, results, strict=False)):
        status = result.get("status") if isinstance(result, dict) else None
        valid = validator.is_valid(operation)
        if valid and status == 400 and not _explained_bulk_refusal(operation, result):
            raise AssertionError(
                f"Operation {index} of a bulk write is valid for the contract's schema but got "
                f"a 400 result: {result}\noperation: {operation!r}"
            )
        if not valid and status not in BULK_REFUSALS:
            raise AssertionError(
                f"Operation {index} of a bulk write breaks the contract's schema but was not "
                f"refused ({status}): {result}\noperation: {operation!r}"
            )
