"""With PostgreSQL cut off, every operation that needs the database is a quick 503 problem.

The operations come from openapi.yaml: every one except the few that never touch the database.
A new operation fails here until it is given a valid request below. The requests are valid ones
(a real user's tokens and task, projects shared with another user, invitations both ways,
prepared while the database was up), so nothing but the outage stands between them and success.
"""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.stack.conftest import PASSWORD, Account, create_account, record_figure
from tests.support.contract_operations import Operation, contract_operations

PROBLEM = "application/problem+json"
WITHOUT_DATABASE = {"healthLive", "getContract", "apiDocs"}
DATABASE_OPERATIONS = [
    operation
    for operation in contract_operations()
    if operation.operation_id not in WITHOUT_DATABASE
]
# Each request waits for the pool's 1.5 s timeout; a process serves sync views one at a time.
REQUEST_TIMEOUT = 30.0
RECOVERY_DEADLINE = 30.0
OUTAGE_DETAILS = {"The database did not answer. Try again shortly.", "The database check failed."}

Request = tuple[dict[str, str], dict | None]  # headers, JSON body


@dataclass(frozen=True)
class Shared:
    """What the operations of projects act on, made while the database was up."""

    own: int  # a project the caller owns, where `member_id` is an editor
    member_id: int
    joined: int  # another user's project, where the caller is an editor
    invitation_sent: int  # pending, by the caller to `own`
    invitation_received: int  # pending, to the caller


def _ok(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def _invite(http: requests.Session, inviter: Account, invitee_email: str, project_id: int) -> int:
    body = {"email": invitee_email, "role": "editor"}
    invited = http.post(f"/projects/{project_id}/invitations/", json=body, headers=inviter.auth)
    return _ok(invited, 201)["id"]


def _join(http: requests.Session, owner: Account, member: Account, project_id: int) -> None:
    invitation_id = _invite(http, owner, member.email, project_id)
    _ok(http.post(f"/invitations/{invitation_id}/accept/", headers=member.auth), 200)


def share(http: requests.Session, account: Account) -> Shared:
    """Projects shared between `account` and another new user, and an invitation each way."""
    other = create_account(http)
    own = _ok(http.post("/projects/", json={"name": "own"}, headers=account.auth), 201)["id"]
    _join(http, account, other, own)
    theirs = _ok(http.post("/projects/", json={"name": "theirs"}, headers=other.auth), 201)["id"]
    _join(http, other, account, theirs)
    invited = _ok(http.post("/projects/", json={"name": "invited"}, headers=other.auth), 201)
    return Shared(
        own=own,
        member_id=_ok(http.get("/auth/me/", headers=other.auth), 200)["id"],
        joined=theirs,
        invitation_sent=_invite(http, account, f"pending-{uuid.uuid4().hex[:12]}@example.com", own),
        invitation_received=_invite(http, other, account.email, invited["id"]),
    )


def project_paths(shared: Shared) -> dict[str, dict[str, int]]:
    """The path parameters of the operations of projects, members and invitations."""
    own = {"id": shared.own}
    member = {**own, "user_id": shared.member_id}
    received = {"invitation_id": shared.invitation_received}
    return {
        "projectList": {},
        "projectCreate": {},
        "projectGet": own,
        "projectUpdate": own,
        "projectDelete": own,
        "projectLeave": {"id": shared.joined},  # its owner may not leave
        "projectTransfer": own,
        "memberList": own,
        "memberUpdate": member,
        "memberRemove": member,
        "invitationCreate": own,
        "invitationList": own,
        "invitationRevoke": {**own, "invitation_id": shared.invitation_sent},
        "myInvitationList": {},
        "invitationAccept": received,
        "invitationDecline": received,
    }


def _in_a_month() -> str:
    return (datetime.now(UTC) + timedelta(days=30)).isoformat()


def valid_requests(account: Account, task_id: int, shared: Shared) -> dict[str, Request]:
    """A request each operation would accept if the database answered."""
    auth = account.auth
    return {
        "healthReady": ({}, None),
        "authRegister": (
            {},
            {"email": f"new-{uuid.uuid4().hex[:12]}@example.com", "password": PASSWORD},
        ),
        "authLogin": ({}, {"email": account.email, "password": PASSWORD}),
        "authRefresh": ({}, {"refresh": account.refresh}),
        "authLogout": (auth, {"refresh": account.refresh}),
        "authMe": (auth, None),
        "tokenList": (auth, None),
        "tokenCreate": (
            auth,
            {"name": "in the cut", "scopes": ["tasks:read"], "expires_at": _in_a_month()},
        ),
        "tokenGet": (auth, None),
        "tokenDelete": (auth, None),
        "authDeleteAccount": (auth, {"password": PASSWORD}),
        "authChangePassword": (
            auth,
            {"current_password": PASSWORD, "new_password": "another-long-passphrase-43"},
        ),
        "taskList": (auth, None),
        "taskCreate": ({**auth, "Idempotency-Key": uuid.uuid4().hex}, {"title": "in the cut"}),
        "taskGet": (auth, None),
        "taskReplace": (auth, {"title": "replaced in the cut"}),
        "taskDelete": (auth, None),
        "taskUpdate": (auth, {"completed": True}),
        "taskChanges": (auth, None),
        "taskTrashList": (auth, None),
        "taskRestore": (auth, None),
        "taskMove": (auth, {"after_id": None}),
        "taskErase": (auth, None),
        "labelList": (auth, None),
        "labelCreate": (auth, {"name": f"label {uuid.uuid4().hex[:8]}"}),
        "labelGet": (auth, None),
        "labelUpdate": (auth, {"color": "#00ff00"}),
        "labelDelete": (auth, None),
        "webhookList": (auth, None),
        "webhookCreate": (auth, {"url": "https://1.1.1.1/hook", "event_types": ["task.created"]}),
        "webhookGet": (auth, None),
        "webhookUpdate": (auth, {"active": False}),
        "webhookDelete": (auth, None),
        "webhookRotateSecret": (auth, None),
        "webhookDeliveryList": (auth, None),
        "webhookTest": (auth, None),
        "taskBulk": (
            {**auth, "Idempotency-Key": uuid.uuid4().hex},
            {
                "operations": [
                    {"op": "create", "body": {"title": "in the cut"}},
                    {"op": "update", "id": task_id, "body": {"completed": True}},
                ]
            },
        ),
        "projectList": (auth, None),
        "projectCreate": (auth, {"name": "made in the cut"}),
        "projectGet": (auth, None),
        "projectUpdate": (auth, {"name": "renamed in the cut"}),
        "projectDelete": (auth, None),
        "projectLeave": (auth, None),
        "projectTransfer": (auth, {"user_id": shared.member_id}),
        "memberList": (auth, None),
        "memberUpdate": (auth, {"role": "viewer"}),
        "memberRemove": (auth, None),
        "invitationCreate": (
            auth,
            {"email": f"invited-{uuid.uuid4().hex[:12]}@example.com", "role": "viewer"},
        ),
        "invitationList": (auth, None),
        "invitationRevoke": (auth, None),
        "myInvitationList": (auth, None),
        "invitationAccept": (auth, None),
        "invitationDecline": (auth, None),
    }


# These act on a task in the trash; the others on a live one.
ON_TRASHED_TASK = {"taskRestore", "taskErase"}
# These act on a label.
ON_LABEL = {"labelGet", "labelUpdate", "labelDelete"}
ON_TOKEN = {"tokenGet", "tokenDelete"}
# These act on a webhook.
ON_WEBHOOK = {
    "webhookGet",
    "webhookUpdate",
    "webhookDelete",
    "webhookRotateSecret",
    "webhookDeliveryList",
    "webhookTest",
}


def _wait_until_ready(stack) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + RECOVERY_DEADLINE
    while time.monotonic() < deadline:
        statuses = []
        for app in stack.apps:
            try:
                statuses.append(app.http.get("/health/ready/", timeout=5).status_code)
            except requests.RequestException:
                statuses.append(None)
        if statuses == [200] * len(stack.apps):
            return
        time.sleep(0.2)
    pytest.fail(f"the stack did not recover within {RECOVERY_DEADLINE} s")


@pytest.fixture
def database_cut(stack):
    """Cuts PostgreSQL off when called; afterwards the stack is whole again for the next test."""
    yield stack.pg_proxy.cut
    stack.pg_proxy.restore()
    _wait_until_ready(stack)


def test_every_database_operation_is_a_503_problem_while_the_database_is_cut(stack, database_cut):
    http = stack.http
    account = create_account(http)
    task = http.post("/tasks/", json={"title": "before the cut"}, headers=account.auth)
    assert task.status_code == 201, task.text
    trashed = http.post("/tasks/", json={"title": "in the trash"}, headers=account.auth)
    assert http.delete(f"/tasks/{trashed.json()['id']}/", headers=account.auth).status_code == 204
    label = http.post("/labels/", json={"name": "before the cut"}, headers=account.auth)
    assert label.status_code == 201, label.text
    webhook = http.post(
        "/webhooks/",
        json={"url": "https://1.1.1.1/hook", "event_types": ["task.created"], "active": False},
        headers=account.auth,
    )
    assert webhook.status_code == 201, webhook.text
    body = {"name": "before the cut", "scopes": ["tasks:read"], "expires_at": _in_a_month()}
    access_token = http.post("/auth/tokens/", json=body, headers=account.auth)
    assert access_token.status_code == 201, access_token.text
    shared = share(http, account)
    prepared = valid_requests(account, task.json()["id"], shared)
    paths = project_paths(shared)
    unprepared = {op.operation_id for op in DATABASE_OPERATIONS} - set(prepared)
    assert not unprepared, f"give these operations a valid request in valid_requests: {unprepared}"

    database_cut()

    def send(operation: Operation) -> tuple[requests.Response, float]:
        headers, body = prepared[operation.operation_id]
        target = trashed if operation.operation_id in ON_TRASHED_TASK else task
        if operation.operation_id in ON_LABEL:
            target = label
        if operation.operation_id in ON_TOKEN:
            target = access_token
        if operation.operation_id in ON_WEBHOOK:
            target = webhook
        params = paths.get(operation.operation_id, {"id": target.json()["id"]})
        started = time.monotonic()
        response = stack.http.request(
            operation.method,
            operation.url(**params),
            json=body,
            headers=headers,
            timeout=REQUEST_TIMEOUT,
        )
        return response, time.monotonic() - started

    with ThreadPoolExecutor(len(DATABASE_OPERATIONS)) as pool:
        results = dict(
            zip(
                [op.operation_id for op in DATABASE_OPERATIONS],
                pool.map(send, DATABASE_OPERATIONS),
                strict=True,
            )
        )

    slowest = max(elapsed for _response, elapsed in results.values())
    record_figure(f"pg cut: {len(results)} operations answered 503, slowest in {slowest:.2f} s")
    wrong = {}
    for operation_id, (response, elapsed) in results.items():
        body = response.json() if response.headers.get("Content-Type") == PROBLEM else {}
        seen = (
            response.status_code,
            body.get("type"),
            body.get("detail") in OUTAGE_DETAILS,
            int(response.headers.get("Retry-After", "0")) > 0,
        )
        if seen != (503, "/problems/service-unavailable", True, True):
            wrong[operation_id] = (seen, round(elapsed, 2), response.text[:200])
    assert not wrong, wrong
