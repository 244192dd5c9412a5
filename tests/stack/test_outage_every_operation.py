"""With PostgreSQL cut off, every operation that needs the database is a quick 503 problem.

The operations come from openapi.yaml: every one except the few that never touch the database.
A new operation fails here until it is given a valid request below. The requests are valid ones
(a real user's tokens and task, prepared while the database was up), so nothing but the outage
stands between them and success.
"""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

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


def valid_requests(account: Account, task_id: int) -> dict[str, Request]:
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
    }


# These act on a task in the trash; the others on a live one.
ON_TRASHED_TASK = {"taskRestore", "taskErase"}
# These act on a label.
ON_LABEL = {"labelGet", "labelUpdate", "labelDelete"}
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
    prepared = valid_requests(account, task.json()["id"])
    unprepared = {op.operation_id for op in DATABASE_OPERATIONS} - set(prepared)
    assert not unprepared, f"give these operations a valid request in valid_requests: {unprepared}"

    database_cut()

    def send(operation: Operation) -> tuple[requests.Response, float]:
        headers, body = prepared[operation.operation_id]
        target = trashed if operation.operation_id in ON_TRASHED_TASK else task
        if operation.operation_id in ON_LABEL:
            target = label
        if operation.operation_id in ON_WEBHOOK:
            target = webhook
        started = time.monotonic()
        response = stack.http.request(
            operation.method,
            operation.url(id=target.json()["id"]),
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
