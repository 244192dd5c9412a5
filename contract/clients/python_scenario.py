"""A consumer's session through the generated Python client (run by contract/test_clients.py).

    PYTHONPATH=build/clients/python python contract/clients/python_scenario.py BASE_URL

Every response must parse into the model the contract names for its status: `.parsed` is checked
to be an instance of the generated class, so a server/contract/generator mismatch fails here (the
generated parsers raise on a missing field or a value outside an enum). Exits non-zero with the
failing step on the first mismatch.
"""

from __future__ import annotations

import datetime
import sys
import uuid
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from cloud_task_api_client import AuthenticatedClient, Client
from cloud_task_api_client.api.auth import (
    auth_login,
    auth_refresh,
    auth_register,
    token_create,
    token_delete,
    token_get,
)
from cloud_task_api_client.api.health import get_contract
from cloud_task_api_client.api.invitations import (
    invitation_accept,
    invitation_create,
    my_invitation_list,
)
from cloud_task_api_client.api.labels import label_create, label_delete, label_list
from cloud_task_api_client.api.projects import member_list, project_create
from cloud_task_api_client.api.tasks import (
    task_bulk,
    task_changes,
    task_create,
    task_delete,
    task_erase,
    task_get,
    task_list,
    task_move,
    task_restore,
    task_trash_list,
    task_update,
)
from cloud_task_api_client.models import (
    AccessToken,
    AccessTokenCreate,
    AccessTokenWithSecret,
    InvalidTokenProblem,
    Invitation,
    InvitationCreate,
    InvitationList,
    Label,
    LabelCreate,
    LabelList,
    LoginIn,
    MemberList,
    MemberRole,
    NotAuthenticatedProblem,
    NotFoundProblem,
    PermissionDeniedProblem,
    PreconditionFailedProblem,
    Project,
    ProjectCreate,
    RefreshIn,
    RegisterIn,
    Task,
    TaskBulk,
    TaskBulkCreate,
    TaskBulkDelete,
    TaskBulkDeletedResult,
    TaskBulkProblemResult,
    TaskBulkResults,
    TaskBulkTaskResult,
    TaskBulkUpdate,
    TaskChanges,
    TaskCreate,
    TaskMove,
    TaskPage,
    TaskPatch,
    TokenPair,
    TrashedTaskPage,
    UserOut,
    ValidationProblem,
)
from cloud_task_api_client.types import UNSET, Response, Unset

Model = TypeVar("Model")

PASSWORD = "difference-engine-1822"
# Enough open tasks for three pages of PAGE_SIZE, plus one completed task the filter must drop.
OPEN_TASKS = 5
PAGE_SIZE = 2


def parsed(response: Response[Any], status: int, model: type[Model]) -> Model:
    assert response.status_code == status, (
        f"expected {status}, got {response.status_code}: {response.content!r}"
    )
    assert isinstance(response.parsed, model), (
        f"the {status} parsed as {type(response.parsed).__name__}, not {model.__name__}: "
        f"{response.content!r}"
    )
    return response.parsed


def log_in(anonymous: Client, email: str) -> TokenPair:
    login = auth_login.sync_detailed(client=anonymous, body=LoginIn(email=email, password=PASSWORD))
    return parsed(login, 200, TokenPair)


def rotate_refresh_tokens(anonymous: Client, email: str) -> None:
    first = log_in(anonymous, email)
    second = parsed(
        auth_refresh.sync_detailed(client=anonymous, body=RefreshIn(refresh=first.refresh)),
        200,
        TokenPair,
    )
    # The new refresh token works (before the old one is replayed: that revokes the family)...
    parsed(
        auth_refresh.sync_detailed(client=anonymous, body=RefreshIn(refresh=second.refresh)),
        200,
        TokenPair,
    )
    # ...and the used one is refused, as the typed problem.
    reused = auth_refresh.sync_detailed(client=anonymous, body=RefreshIn(refresh=first.refresh))
    problem = parsed(reused, 401, InvalidTokenProblem)
    assert (problem.type_, problem.status) == ("/problems/invalid-token", 401), problem


def create_with_idempotency_key(client: AuthenticatedClient) -> tuple[Task, str]:
    key = str(uuid.uuid4())
    body = TaskCreate(title="Write the notes", description="On the analytical engine.")
    created = task_create.sync_detailed(client=client, body=body, idempotency_key=key)
    task = parsed(created, 201, Task)
    assert "Idempotent-Replayed" not in created.headers
    replay = task_create.sync_detailed(client=client, body=body, idempotency_key=key)
    assert parsed(replay, 201, Task).id == task.id
    assert replay.headers.get("Idempotent-Replayed") == "true", dict(replay.headers)
    assert replay.headers["ETag"] == created.headers["ETag"]
    return task, created.headers["ETag"]


def create_a_timed_task(client: AuthenticatedClient) -> None:
    """A due time with its zone comes back in UTC (completed: not one of the open tasks)."""
    new_york = datetime.timezone(datetime.timedelta(hours=-5))
    body = TaskCreate(
        title="Call the printer",
        completed=True,
        due_at=datetime.datetime(2026, 12, 31, 23, 30, tzinfo=new_york),
        time_zone="America/New_York",
    )
    timed = parsed(task_create.sync_detailed(client=client, body=body), 201, Task)
    assert timed.due_at == datetime.datetime(2027, 1, 1, 4, 30, tzinfo=datetime.UTC), timed
    assert timed.time_zone == "America/New_York", timed


def list_every_open_task(client: AuthenticatedClient) -> tuple[list[int], int]:
    """Every open task's id, following the `next` links' cursors; and how many pages it took."""
    ids: list[int] = []
    pages = 0
    cursor: str | Unset = UNSET
    while True:
        page = parsed(
            task_list.sync_detailed(
                client=client, completed=False, page_size=PAGE_SIZE, cursor=cursor
            ),
            200,
            TaskPage,
        )
        pages += 1
        assert len(page.results) <= PAGE_SIZE
        assert all(not task.completed for task in page.results), page.results
        ids += [task.id for task in page.results]
        if page.next_ is None:
            return ids, pages
        # The link carries the cursor; the filters it came with are sent again, as asked.
        cursor = parse_qs(urlsplit(page.next_).query)["cursor"][0]


def label_a_task(client: AuthenticatedClient) -> None:
    """Label a task, find it by its label, then delete the label: the task loses it."""
    created = label_create.sync_detailed(
        client=client, body=LabelCreate(name="Errands", color="#3B82F6")
    )
    label = parsed(created, 201, Label)
    assert (label.name, label.color) == ("Errands", "#3b82f6"), label
    task = parsed(
        task_create.sync_detailed(
            client=client, body=TaskCreate(title="Buy stamps", labels=[label.id])
        ),
        201,
        Task,
    )
    assert task.labels == [label.id], task
    listed = parsed(label_list.sync_detailed(client=client), 200, LabelList)
    assert [item.id for item in listed.results] == [label.id], listed
    tagged = parsed(task_list.sync_detailed(client=client, label=[label.id]), 200, TaskPage)
    assert [item.id for item in tagged.results] == [task.id], tagged
    assert label_delete.sync_detailed(label.id, client=client).status_code == 204
    assert parsed(task_get.sync_detailed(task.id, client=client), 200, Task).labels == []


def bulk_write(client: AuthenticatedClient, open_ids: list[int]) -> None:
    """A mixed batch: every result parses into the model of its status, in request order."""
    batch = TaskBulk(
        operations=[
            TaskBulkCreate(op="create", body=TaskCreate(title="From a batch")),
            TaskBulkUpdate(op="update", id=open_ids[0], body=TaskPatch(completed=True)),
            TaskBulkUpdate(op="update", id=open_ids[1], if_match='"999"', body=TaskPatch()),
            TaskBulkDelete(op="delete", id=open_ids[2]),
            TaskBulkUpdate(op="update", id=open_ids[3], body=TaskPatch(title=" ")),
        ]
    )
    key = str(uuid.uuid4())
    answer = parsed(
        task_bulk.sync_detailed(client=client, body=batch, idempotency_key=key),
        200,
        TaskBulkResults,
    )
    created, updated, stale, deleted, invalid = answer.results
    assert isinstance(created, TaskBulkTaskResult) and created.status == 201, created
    assert isinstance(updated, TaskBulkTaskResult) and updated.body.completed, updated
    assert isinstance(stale, TaskBulkProblemResult) and stale.status == 412, stale
    assert isinstance(stale.body, PreconditionFailedProblem), stale.body
    assert isinstance(deleted, TaskBulkDeletedResult) and deleted.status == 204, deleted
    assert isinstance(invalid, TaskBulkProblemResult) and invalid.status == 400, invalid
    assert isinstance(invalid.body, ValidationProblem), invalid.body
    replay = task_bulk.sync_detailed(client=client, body=batch, idempotency_key=key)
    assert parsed(replay, 200, TaskBulkResults).to_dict() == answer.to_dict()
    assert replay.headers.get("Idempotent-Replayed") == "true", dict(replay.headers)


def hand_a_script_a_read_token(base_url: str, login: AuthenticatedClient) -> None:
    """A personal access token that may only read tasks: it lists the user's tasks, its write is
    the typed 403 naming the scope it lacks, and once the login deletes it, it is a 401."""
    expires_at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)
    body = AccessTokenCreate(name="nightly report", scopes=["tasks:read"], expires_at=expires_at)
    created = token_create.sync_detailed(client=login, body=body)
    made = parsed(created, 201, AccessTokenWithSecret)
    assert (made.name, made.scopes, made.last_used_at) == ("nightly report", ["tasks:read"], None)
    assert abs(made.expires_at - expires_at) < datetime.timedelta(seconds=1), made.expires_at
    assert made.token.startswith(made.prefix) and len(made.token) == 69, made
    assert created.headers["Location"].endswith(f"/auth/tokens/{made.id}/"), dict(created.headers)
    assert created.headers["Cache-Control"] == "no-store", dict(created.headers)
    script = AuthenticatedClient(
        base_url=base_url, token=made.token, raise_on_unexpected_status=True
    )

    # The token acts as its user: the same tasks as the login sees.
    listed = parsed(task_list.sync_detailed(client=script), 200, TaskPage)
    expected = parsed(task_list.sync_detailed(client=login), 200, TaskPage)
    assert [item.id for item in listed.results] == [item.id for item in expected.results], listed
    assert listed.results, "the user has tasks: an empty list would prove nothing"
    used = parsed(token_get.sync_detailed(made.id, client=login), 200, AccessToken)
    assert used.last_used_at is not None and used.prefix == made.prefix, used

    refused = task_create.sync_detailed(client=script, body=TaskCreate(title="From the script"))
    denied = parsed(refused, 403, PermissionDeniedProblem)
    assert (denied.type_, denied.status, denied.permission, denied.scope) == (
        "/problems/permission-denied",
        403,
        "tasks:write",
        "tasks:write",
    ), denied
    challenge = refused.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="api", error="insufficient_scope"'), challenge
    assert challenge.endswith(', scope="tasks:write"'), challenge
    after = parsed(task_list.sync_detailed(client=login), 200, TaskPage)
    assert after.to_dict() == expected.to_dict(), "a refused write created a task"

    deleted = token_delete.sync_detailed(made.id, client=login)
    assert (deleted.status_code, deleted.parsed) == (204, None)
    revoked = task_list.sync_detailed(client=script)
    problem = parsed(revoked, 401, NotAuthenticatedProblem)
    assert (problem.type_, problem.status) == ("/problems/not-authenticated", 401), problem
    assert 'error="invalid_token"' in revoked.headers["WWW-Authenticate"], revoked.headers
    gone = parsed(token_get.sync_detailed(made.id, client=login), 404, NotFoundProblem)
    assert gone.type_ == "/problems/not-found", gone


def sign_up(anonymous: Client, base_url: str, email: str) -> tuple[UserOut, AuthenticatedClient]:
    registered = auth_register.sync_detailed(
        client=anonymous, body=RegisterIn(email=email, password=PASSWORD)
    )
    user = parsed(registered, 201, UserOut)
    token = log_in(anonymous, email).access
    return user, AuthenticatedClient(
        base_url=base_url, token=token, raise_on_unexpected_status=True
    )


def join(member: AuthenticatedClient, project: Project, role: MemberRole, invited_by: str) -> None:
    """The invitee finds the invitation addressed to them, accepts it, and cannot accept twice."""
    mine = parsed(my_invitation_list.sync_detailed(client=member), 200, InvitationList)
    assert [
        (item.project_id, item.project_name, item.role, item.invited_by) for item in mine.results
    ] == [(project.id, project.name, role, invited_by)], mine
    invitation = mine.results[0]
    joined = parsed(invitation_accept.sync_detailed(invitation.id, client=member), 200, Project)
    assert (joined.id, joined.role, joined.inbox) == (project.id, role, False), joined
    again = invitation_accept.sync_detailed(invitation.id, client=member)
    assert parsed(again, 404, NotFoundProblem).type_ == "/problems/not-found"


def share_a_project(
    anonymous: Client, base_url: str, owner: AuthenticatedClient, email: str
) -> None:
    """Invite an editor and a viewer; the editor works on a task, the viewer's write is a 403."""
    created = project_create.sync_detailed(
        client=owner, body=ProjectCreate(name="Engine notes", color="#1F77B4")
    )
    project = parsed(created, 201, Project)
    assert (project.role, project.color, project.inbox) == ("owner", "#1f77b4", False), project
    roles: tuple[MemberRole, ...] = ("editor", "viewer")
    emails = {role: f"{role}-{uuid.uuid4().hex[:12]}@example.com" for role in roles}
    for role, invitee in emails.items():
        # Before the invitee has an account: an invitation looks none up.
        invited = invitation_create.sync_detailed(
            project.id, client=owner, body=InvitationCreate(email=invitee.upper(), role=role)
        )
        invitation = parsed(invited, 201, Invitation)
        assert (invitation.email, invitation.role, invitation.invited_by) == (invitee, role, email)
        assert invitation.expires_at > invitation.created_at, invitation
    editor_user, editor = sign_up(anonymous, base_url, emails["editor"])
    _, viewer = sign_up(anonymous, base_url, emails["viewer"])
    join(editor, project, "editor", email)
    join(viewer, project, "viewer", email)

    body = TaskCreate(title="Check the tables", project_id=project.id, assignee_id=editor_user.id)
    shared = parsed(task_create.sync_detailed(client=editor, body=body), 201, Task)
    assert (shared.project_id, shared.assignee_id) == (project.id, editor_user.id), shared
    edited = task_update.sync_detailed(shared.id, client=editor, body=TaskPatch(priority="high"))
    assert parsed(edited, 200, Task).priority == "high"
    listed = task_list.sync_detailed(client=owner, project_id=project.id)
    assert [item.id for item in parsed(listed, 200, TaskPage).results] == [shared.id], listed
    assert parsed(task_get.sync_detailed(shared.id, client=viewer), 200, Task).id == shared.id

    refused = task_update.sync_detailed(shared.id, client=viewer, body=TaskPatch(completed=True))
    denied = parsed(refused, 403, PermissionDeniedProblem)
    assert (denied.type_, denied.status, denied.permission) == (
        "/problems/permission-denied",
        403,
        "task:write",
    ), denied
    assert parsed(task_get.sync_detailed(shared.id, client=owner), 200, Task).completed is False

    members = parsed(member_list.sync_detailed(project.id, client=owner), 200, MemberList)
    assert [(member.email, member.role) for member in members.results] == [
        (email, "owner"),
        (emails["editor"], "editor"),
        (emails["viewer"], "viewer"),
    ], members


def main(base_url: str) -> None:
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)

    contract = get_contract.sync_detailed(client=anonymous)
    assert contract.status_code == 200
    assert isinstance(contract.parsed, str), type(contract.parsed)
    assert contract.parsed.startswith("openapi: 3.1.0\n")

    email = f"client-{uuid.uuid4().hex[:12]}@example.com"
    registered = auth_register.sync_detailed(
        client=anonymous, body=RegisterIn(email=email, password=PASSWORD)
    )
    assert parsed(registered, 201, UserOut).email == email

    rotate_refresh_tokens(anonymous, email)
    # Replaying a used refresh token ends its family: log in again, as the contract tells clients.
    client = AuthenticatedClient(
        base_url=base_url, token=log_in(anonymous, email).access, raise_on_unexpected_status=True
    )

    task, etag = create_with_idempotency_key(client)
    open_ids = [task.id]
    for number in range(OPEN_TASKS - 1):
        more = task_create.sync_detailed(client=client, body=TaskCreate(title=f"Open {number}"))
        open_ids.append(parsed(more, 201, Task).id)
    done = task_create.sync_detailed(client=client, body=TaskCreate(title="Done", completed=True))
    assert parsed(done, 201, Task).completed is True
    create_a_timed_task(client)

    listed, pages = list_every_open_task(client)
    assert sorted(listed) == sorted(open_ids), (listed, open_ids)
    assert pages >= 3, pages

    unchanged = task_get.sync_detailed(task.id, client=client, if_none_match=etag)
    assert (unchanged.status_code, unchanged.parsed, unchanged.content) == (304, None, b"")

    # Another client of the same user changes the task: the ETag held here goes stale.
    elsewhere = task_update.sync_detailed(task.id, client=client, body=TaskPatch(priority="high"))
    assert parsed(elsewhere, 200, Task).priority == "high"
    stale = task_update.sync_detailed(
        task.id, client=client, body=TaskPatch(title="Lost update"), if_match=etag
    )
    problem = parsed(stale, 412, PreconditionFailedProblem)
    assert (problem.type_, problem.status) == ("/problems/precondition-failed", 412), problem

    fresh_etag = elsewhere.headers["ETag"]
    updated = task_update.sync_detailed(
        task.id, client=client, body=TaskPatch(completed=True), if_match=fresh_etag
    )
    after = parsed(updated, 200, Task)
    assert (after.title, after.priority, after.completed) == ("Write the notes", "high", True)
    assert after.completed_at is not None

    synced = parsed(task_changes.sync_detailed(client=client, page_size=500), 200, TaskChanges)
    assert task.id in [item.id for item in synced.tasks] and not synced.has_more, synced
    deleted = task_delete.sync_detailed(task.id, client=client, if_match=updated.headers["ETag"])
    assert (deleted.status_code, deleted.parsed) == (204, None)

    missing = parsed(task_get.sync_detailed(task.id, client=client), 404, NotFoundProblem)
    assert (missing.type_, missing.status) == ("/problems/not-found", 404), missing

    since = task_changes.sync_detailed(client=client, sync_token=synced.sync_token)
    assert parsed(since, 200, TaskChanges).deleted == [task.id], since.content
    trash = parsed(task_trash_list.sync_detailed(client=client), 200, TrashedTaskPage)
    assert [item.id for item in trash.results] == [task.id], trash
    assert trash.results[0].deleted_at is not None and trash.results[0].completed
    restored = task_restore.sync_detailed(task.id, client=client, if_match=updated.headers["ETag"])
    assert parsed(restored, 200, Task).id == task.id
    assert restored.headers["ETag"] != updated.headers["ETag"]
    garbled = task_changes.sync_detailed(client=client, sync_token="garbled")
    assert parsed(garbled, 400, ValidationProblem).errors[0].field == "sync_token"
    task_delete.sync_detailed(task.id, client=client)
    erased = task_erase.sync_detailed(task.id, client=client)
    assert (erased.status_code, erased.parsed) == (204, None)
    again = parsed(task_restore.sync_detailed(task.id, client=client), 404, NotFoundProblem)
    assert again.status == 404
    label_a_task(client)

    parent = parsed(
        task_create.sync_detailed(client=client, body=TaskCreate(title="Parent")), 201, Task
    )
    child = task_create.sync_detailed(client=client, body=TaskCreate(title="Child"))
    moved = task_move.sync_detailed(
        parsed(child, 201, Task).id,
        client=client,
        body=TaskMove(parent_id=parent.id, after_id=None),
    )
    assert parsed(moved, 200, Task).parent_id == parent.id
    children = task_list.sync_detailed(client=client, parent_id=parent.id)
    assert [item.id for item in parsed(children, 200, TaskPage).results] == [
        parsed(moved, 200, Task).id
    ]

    bulk_write(client, open_ids[1:])
    hand_a_script_a_read_token(base_url, client)
    share_a_project(anonymous, base_url, client, email)
    print("python client scenario: every step parsed into its generated model")


if __name__ == "__main__":
    main(sys.argv[1])
