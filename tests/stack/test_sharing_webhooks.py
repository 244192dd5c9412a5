"""Webhooks under sharing, on the real stack: a user's webhook receives an event only if that
user can see the task when the event happens, rendered as that user sees it; after removal,
nothing more arrives.

Two app instances on PostgreSQL behind nginx, one `manage.py webhooks_worker` process beside
them, and a real loopback HTTP receiver per user (tests/support/receiver.py): nothing mocked.
Each test has a fresh project of its own; the users are the module's.

"Nothing arrives" is asserted after the events that must arrive have arrived, and a bounded
QUIET time more: the one worker sends each write's events together, so a stray one would show
itself then. The users' delivery logs (GET /webhooks/{id}/deliveries/) say the same without
waiting: an event is recorded, or not, in the transaction of the write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from tests.stack.conftest import Account, create_account, new_stack, record_figure
from tests.support.receiver import Receiver, start_receiver
from tests.support.services import Stack

TASK_EVENTS = [
    "task.created",
    "task.updated",
    "task.completed",
    "task.uncompleted",
    "task.deleted",
    "task.restored",
]
DELIVERY_TIMEOUT = 30.0  # seconds for an event that must arrive
QUIET = 3.0  # seconds more, after the last event that must arrive, for one that must not


@pytest.fixture(scope="module")
def sharing_webhooks_stack(tmp_path_factory, pg_server) -> Iterator[Stack]:
    """A stack with one webhooks worker, allowed to deliver to loopback receivers over http."""
    server = new_stack(
        tmp_path_factory,
        pg_server,
        proxied=False,
        AUTH_RATE_LIMIT="100000/minute",
        WEBHOOKS_ALLOW_LOOPBACK="true",
        WEBHOOKS_CONNECT_TIMEOUT="2",
        WEBHOOKS_TIMEOUT="8",
        WEBHOOKS_LEASE_SECONDS="10",
        WEBHOOKS_SWEEP_INTERVAL="1",
    )
    try:
        server.start_webhooks_worker()
        yield server
    finally:
        server.stop()


@dataclass
class User:
    account: Account
    id: int

    @property
    def auth(self) -> dict[str, str]:
        return self.account.auth


@pytest.fixture(scope="module")
def users(sharing_webhooks_stack: Stack) -> dict[str, User]:
    """owner, member, stranger (never a member of anything but its Inbox), invitee (invited,
    never accepting)."""
    names = ["owner", "member", "stranger", "invitee"]
    with ThreadPoolExecutor(len(names)) as pool:  # registering hashes passwords: both cores
        accounts = list(pool.map(lambda _: create_account(sharing_webhooks_stack.http), names))
    found = {}
    for name, account in zip(names, accounts, strict=True):
        me = sharing_webhooks_stack.http.get("/auth/me/", headers=account.auth)
        assert me.status_code == 200, me.text
        found[name] = User(account, me.json()["id"])
    return found


@dataclass
class Subscription:
    """A user's webhook for every task event, and the receiver it points at."""

    user: User
    receiver: Receiver
    webhook_id: int
    secret: str

    def events(self) -> list[dict[str, Any]]:
        """Every event received so far, each verified against the webhook's secret."""
        webhook = Webhook(self.secret)
        return [webhook.verify(r.body, r.headers) for r in list(self.receiver.received)]

    def wait_for(self, wanted: Callable[[dict[str, Any]], bool], *, count: int = 1) -> list[dict]:
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while time.monotonic() < deadline:
            found = [event for event in self.events() if wanted(event)]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        pytest.fail(
            f"user {self.user.id}: {count} matching events not received within "
            f"{DELIVERY_TIMEOUT} s; received {[summary(e) for e in self.events()]}"
        )


def summary(event: dict[str, Any]) -> str:
    data = event["data"]
    return f"{event['type']} #{data['id']} {data['title']!r} labels={data['labels']}"


@pytest.fixture
def subscribe(sharing_webhooks_stack: Stack) -> Iterator[Callable[[User], Subscription]]:
    """Subscribe a user (a fresh receiver); the webhook and receiver go with the test."""
    made: list[Subscription] = []

    def make(user: User) -> Subscription:
        receiver = start_receiver()
        created = sharing_webhooks_stack.http.post(
            "/webhooks/", json={"url": receiver.url, "event_types": TASK_EVENTS}, headers=user.auth
        )
        assert created.status_code == 201, created.text
        body = created.json()
        made.append(Subscription(user, receiver, body["id"], body["secret"]))
        return made[-1]

    yield make
    for subscription in made:
        sharing_webhooks_stack.http.delete(
            f"/webhooks/{subscription.webhook_id}/", headers=subscription.user.auth
        )
        subscription.receiver.stop()


def ok(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (
        f"{response.request.method} {response.url}: {response.status_code} {response.text}"
    )
    return response.json() if response.content else {}


@pytest.fixture
def project(sharing_webhooks_stack: Stack, users: dict[str, User]) -> int:
    """A fresh project of the owner's, with the member in it as an editor and the invitee
    invited (not accepting)."""
    http, owner = sharing_webhooks_stack.http, users["owner"]
    project_id = ok(http.post("/projects/", json={"name": "Shared"}, headers=owner.auth), 201)["id"]
    for name, role in [("member", "editor"), ("invitee", "viewer")]:
        invited = http.post(
            f"/projects/{project_id}/invitations/",
            json={"email": users[name].account.email, "role": role},
            headers=owner.auth,
        )
        if name == "member":
            accepted = http.post(
                f"/invitations/{ok(invited, 201)['id']}/accept/", headers=users[name].auth
            )
            assert ok(accepted, 200)["role"] == role
        else:
            ok(invited, 201)
    return project_id


def label_create(http: requests.Session, user: User, name: str) -> int:
    return ok(http.post("/labels/", json={"name": name}, headers=user.auth), 201)["id"]


def deliveries(http: requests.Session, subscription: Subscription) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    url: str | None = f"/webhooks/{subscription.webhook_id}/deliveries/?page_size=100"
    while url:
        body = ok(http.get(url, headers=subscription.user.auth), 200)
        found.extend(body["results"])
        url = body["next"]
    return found


def of_task(task_id: int, event_type: str, title: str | None = None):  # type: ignore[no-untyped-def]
    def wanted(event: dict[str, Any]) -> bool:
        data = event["data"]
        return (
            event["type"] == event_type
            and data["id"] == task_id
            and (title is None or data["title"] == title)
        )

    return wanted


def test_each_member_receives_a_shared_tasks_event_rendered_with_their_own_labels(
    sharing_webhooks_stack, users, subscribe, project
):
    http = sharing_webhooks_stack.http
    owner, member = users["owner"], users["member"]
    owners, members = subscribe(owner), subscribe(member)
    owners_label = label_create(http, owner, "owner's")
    members_label = label_create(http, member, "member's")
    started = time.monotonic()

    task = ok(
        http.post(
            "/tasks/",
            json={"title": "shared", "project_id": project, "labels": [owners_label]},
            headers=owner.auth,
        ),
        201,
    )
    (created_for_owner,) = owners.wait_for(of_task(task["id"], "task.created"))
    (created_for_member,) = members.wait_for(of_task(task["id"], "task.created"))
    ok(
        http.patch(f"/tasks/{task['id']}/", json={"labels": [members_label]}, headers=member.auth),
        200,
    )
    ok(http.patch(f"/tasks/{task['id']}/", json={"title": "renamed"}, headers=owner.auth), 200)
    (renamed_for_owner,) = owners.wait_for(of_task(task["id"], "task.updated", "renamed"))
    (renamed_for_member,) = members.wait_for(of_task(task["id"], "task.updated", "renamed"))
    arrived = time.monotonic()

    assert created_for_owner["data"]["labels"] == [owners_label]
    assert created_for_member["data"]["labels"] == []
    assert renamed_for_owner["data"]["labels"] == [owners_label]
    assert renamed_for_member["data"]["labels"] == [members_label]
    for event in [created_for_owner, created_for_member, renamed_for_owner, renamed_for_member]:
        assert event["data"]["project_id"] == project
    # Each rendered exactly as its reader's GET shows the task (nothing was written since).
    for user, event in [(owner, renamed_for_owner), (member, renamed_for_member)]:
        assert event["data"] == ok(http.get(f"/tasks/{task['id']}/", headers=user.auth), 200)
    record_figure(
        f"sharing webhooks: a shared task's 2 writes reached both members, each with their "
        f"own labels, {arrived - started:.2f} s after the first write"
    )


def test_a_removed_member_receives_nothing_more_of_the_project(
    sharing_webhooks_stack, users, subscribe, project
):
    http = sharing_webhooks_stack.http
    owner, member = users["owner"], users["member"]
    owners, members = subscribe(owner), subscribe(member)
    task = ok(
        http.post(
            "/tasks/",
            json={"title": "before", "project_id": project, "assignee_id": member.id},
            headers=owner.auth,
        ),
        201,
    )
    owners.wait_for(of_task(task["id"], "task.created"))
    members.wait_for(of_task(task["id"], "task.created"))  # its endpoint works
    received_before = len(members.events())
    logged_before = len(deliveries(http, members))

    ok(http.delete(f"/projects/{project}/members/{member.id}/", headers=owner.auth), 204)
    removed = time.monotonic()
    # The removal unassigns the member: the owner hears of it, the member does not.
    (unassigned,) = owners.wait_for(of_task(task["id"], "task.updated", "before"))
    ok(http.patch(f"/tasks/{task['id']}/", json={"title": "after"}, headers=owner.auth), 200)
    ok(http.patch(f"/tasks/{task['id']}/", json={"completed": True}, headers=owner.auth), 200)
    other = ok(
        http.post("/tasks/", json={"title": "new", "project_id": project}, headers=owner.auth), 201
    )
    ok(http.delete(f"/tasks/{task['id']}/", headers=owner.auth), 204)
    ok(http.post(f"/tasks/{task['id']}/restore/", headers=owner.auth), 200)
    for wanted in [
        of_task(task["id"], "task.updated", "after"),
        of_task(task["id"], "task.completed"),
        of_task(other["id"], "task.created"),
        of_task(task["id"], "task.deleted"),
        of_task(task["id"], "task.restored"),
    ]:
        owners.wait_for(wanted)
    arrived = time.monotonic()
    time.sleep(QUIET)

    assert unassigned["data"]["assignee_id"] is None
    assert [summary(e) for e in members.events()[received_before:]] == []
    assert len(deliveries(http, members)) == logged_before
    assert len(owners.events()) == 7  # created, unassigned, the five writes: nothing twice
    record_figure(
        f"sharing webhooks: after a removal, the owner's 6 events arrived within "
        f"{arrived - removed:.2f} s; the removed member got 0 in {arrived - removed + QUIET:.1f} s"
    )


def test_users_who_never_were_members_receive_nothing_of_the_project(
    sharing_webhooks_stack, users, subscribe, project
):
    http = sharing_webhooks_stack.http
    owner, member = users["owner"], users["member"]
    owners = subscribe(owner)
    strangers = [subscribe(users["stranger"]), subscribe(users["invitee"])]  # the invitee: pending
    own = {}
    for subscription in strangers:  # each endpoint works: its user's own task reaches it
        own[subscription.user.id] = ok(
            http.post("/tasks/", json={"title": "mine"}, headers=subscription.user.auth), 201
        )["id"]
        subscription.wait_for(of_task(own[subscription.user.id], "task.created"))

    task = ok(
        http.post("/tasks/", json={"title": "shared", "project_id": project}, headers=owner.auth),
        201,
    )
    ok(http.patch(f"/tasks/{task['id']}/", json={"title": "edited"}, headers=member.auth), 200)
    ok(http.patch(f"/tasks/{task['id']}/", json={"completed": True}, headers=owner.auth), 200)
    ok(http.delete(f"/tasks/{task['id']}/", headers=member.auth), 204)
    ok(http.post(f"/tasks/{task['id']}/restore/", headers=owner.auth), 200)
    for event_type in [
        "task.created",
        "task.updated",
        "task.completed",
        "task.deleted",
        "task.restored",
    ]:
        owners.wait_for(of_task(task["id"], event_type))
    time.sleep(QUIET)

    for subscription in strangers:
        assert [summary(e) for e in subscription.events()] == [
            f"task.created #{own[subscription.user.id]} 'mine' labels=[]"
        ]
        assert len(deliveries(http, subscription)) == 1
