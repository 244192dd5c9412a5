"""Every operation that takes a body refuses one over 1 MiB (413), one that is not JSON (415), and
JSON nested deeper than any body of the API (400, quickly: it once was a RecursionError, a 500).

The operations come from openapi.yaml, so a new one is covered the day it is documented. Each
request is one the route would otherwise accept as far as the body: a fresh user's token where
the route needs one, and an existing task (or label, webhook, the user's Inbox and the user as
its member) where the path names one (a 404 would come first).
"""

import uuid
from dataclasses import dataclass

import pytest
import requests

from tests.support.contract_operations import Operation, contract_operations

pytestmark = pytest.mark.server

PROBLEM = "application/problem+json"
PASSWORD = "a-long-and-unusual-passphrase-42"
ONE_MEBIBYTE = 1024 * 1024
BODY_OPERATIONS = [operation for operation in contract_operations() if operation.has_body]


@dataclass
class Caller:
    headers: dict[str, str]
    task_id: int
    label_id: int
    webhook_id: int
    project_id: int  # their Inbox, of which they are the owner
    user_id: int


@pytest.fixture
def caller(live_app) -> Caller:
    """A fresh user, registered and logged in through the API, who owns one task, one label, one
    (inactive) webhook and their Inbox."""
    http = live_app.http
    email = f"body-{uuid.uuid4().hex[:12]}@example.com"
    registered = http.post("/auth/register/", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    login = http.post("/auth/login/", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access']}"}
    task = http.post("/tasks/", json={"title": "a task to write to"}, headers=headers)
    assert task.status_code == 201, task.text
    label = http.post("/labels/", json={"name": "a label to write to"}, headers=headers)
    assert label.status_code == 201, label.text
    webhook = http.post(
        "/webhooks/",
        json={"url": "https://1.1.1.1/hook", "event_types": ["task.created"], "active": False},
        headers=headers,
    )
    assert webhook.status_code == 201, webhook.text
    me = http.get("/auth/me/", headers=headers)
    assert me.status_code == 200, me.text
    projects = http.get("/projects/", headers=headers)
    assert projects.status_code == 200, projects.text
    [inbox] = [project for project in projects.json()["results"] if project["inbox"]]
    return Caller(
        headers,
        task.json()["id"],
        label.json()["id"],
        webhook.json()["id"],
        inbox["id"],
        me.json()["id"],
    )


def _send(live_app, caller: Caller, operation: Operation, *, body: bytes, content_type: str):
    headers = {"Content-Type": content_type}
    if operation.secured:
        headers.update(caller.headers)
    target = caller.task_id
    if operation.path.startswith("/labels/"):
        target = caller.label_id
    elif operation.path.startswith("/webhooks/"):
        target = caller.webhook_id
    elif operation.path.startswith("/projects/"):
        target = caller.project_id
    return live_app.http.request(
        operation.method,
        operation.url(id=target, user_id=caller.user_id),
        data=body,
        headers=headers,
    )


def _assert_plain_problem(response: requests.Response, status: int, title: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["type"], body["title"], body["status"]) == ("about:blank", title, status)
    assert body["detail"]
    # The refusal is traceable: it carries the id of the request it refuses.
    assert response.headers["X-Request-ID"] == response.request.headers["X-Request-ID"]


def test_the_operations_with_a_body_are_read_from_the_contract():
    assert {operation.operation_id for operation in BODY_OPERATIONS} >= {
        "authLogin",
        "taskCreate",
        "taskUpdate",
    }


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=lambda op: op.operation_id)
def test_a_body_over_one_mebibyte_is_a_413_problem(live_app, caller, operation):
    response = _send(
        live_app,
        caller,
        operation,
        body=b"{" + b" " * ONE_MEBIBYTE + b"}",
        content_type="application/json",
    )

    _assert_plain_problem(response, 413, "Content Too Large")


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=lambda op: op.operation_id)
def test_a_body_that_is_not_json_is_a_415_problem(live_app, caller, operation):
    response = _send(live_app, caller, operation, body=b"title=not json", content_type="text/plain")

    _assert_plain_problem(response, 415, "Unsupported Media Type")


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=lambda op: op.operation_id)
def test_a_body_nested_60000_levels_deep_is_a_400_problem(live_app, caller, operation):
    body = b'{"a":' * 60_000 + b"1" + b"}" * 60_000  # 360 KB, under the 1 MiB cap

    response = _send(live_app, caller, operation, body=body, content_type="application/json")

    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"] == PROBLEM
    assert response.json()["type"] == "/problems/malformed-request"
