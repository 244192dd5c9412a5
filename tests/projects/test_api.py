"""Projects, members and invitations over HTTP: each operation's statuses, who gets which, the
limits, expiry, the Inbox's rules, and what leaving, removal and account deletion do to tasks.

The full subject x operation matrix is tests/projects/test_matrix.py's; here each operation's
own behaviour, with one subject per refusal.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from taskapi.accounts.models import User
from taskapi.projects import services
from taskapi.projects.models import Invitation, Membership, Project, Role
from taskapi.projects.services import (
    invitation_accept,
    invitation_create,
    project_create,
)
from taskapi.tasks.models import Task
from tests.conftest import token_pair_for
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
# Headers that differ between any two answers, whatever they answer.
PER_REQUEST_HEADERS = {"date", "x-request-id"}


def _client(user: User) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_for(user).access}")
    return api


def _join(owner: User, project_id: int, member: User, role: str = Role.EDITOR) -> None:
    invitation = invitation_create(user=owner, project_id=project_id, email=member.email, role=role)
    invitation_accept(user=member, email=member.email, invitation_id=invitation.pk)


def _invite(owner: User, project_id: int, email: str, role: str = Role.EDITOR) -> Invitation:
    return invitation_create(user=owner, project_id=project_id, email=email, role=role)


def _expire(invitation: Invitation) -> None:
    # Fifteen days ago it was made: a day past its 14-day life.
    Invitation.objects.filter(pk=invitation.pk).update(
        created_at=timezone.now() - timedelta(days=15),
        expires_at=timezone.now() - timedelta(days=1),
    )


def _fields(response) -> list[tuple[str | None, str]]:
    return [(error["field"], error["code"]) for error in response.json()["errors"]]


def _problem(response, status: int, type_: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["type"], body["status"]) == (type_, status)
    return body


def _not_found(response) -> dict:
    return _problem(response, 404, "/problems/not-found")


def _denied(response, permission: str) -> None:
    body = _problem(response, 403, "/problems/permission-denied")
    assert body["title"] == "Permission denied."
    assert body["permission"] == permission
    assert permission in body["detail"]


def _conflict(response) -> dict:
    return _problem(response, 409, "/problems/conflict")


def _limit(response) -> None:
    _conflict(response)
    assert _fields(response) == [(None, "limit")]


def _answer(response) -> tuple[int, dict[str, str], bytes]:
    headers = {
        name.lower(): value
        for name, value in response.items()
        if name.lower() not in PER_REQUEST_HEADERS
    }
    return response.status_code, headers, response.content


def _sync(api: APIClient, token: str | None = None) -> dict:
    response = api.get("/tasks/changes/", {} if token is None else {"sync_token": token})
    assert response.status_code == 200, response.content
    return response.json()


def _missing_project_id() -> int:
    return (Project.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000


@pytest.fixture
def owner(user):
    return user


@pytest.fixture
def project(owner) -> Project:
    return project_create(user=owner, data={"name": "Engine notes", "color": "#1f77b4"})


@pytest.fixture
def editor(owner, project):
    member = UserFactory()
    _join(owner, project.pk, member, Role.EDITOR)
    return member


@pytest.fixture
def viewer(owner, project):
    member = UserFactory()
    _join(owner, project.pk, member, Role.VIEWER)
    return member


@pytest.fixture
def stranger(db):
    """A registered user who is a member of nothing but their own Inbox."""
    return UserFactory()


@pytest.fixture
def inbox(owner) -> Project:
    return Project.objects.get(owner=owner, inbox=True)


# --- projectList ---------------------------------------------------------------------------


def test_the_list_holds_the_inbox_and_every_project_joined_each_with_my_role(
    api_client, owner, inbox, project, stranger
):
    theirs = project_create(user=stranger, data={"name": "Lovelace household"})
    _join(stranger, theirs.pk, owner, Role.VIEWER)
    project_create(user=stranger, data={"name": "not shared"})
    _join(owner, project.pk, UserFactory())  # another member: still one row for the project

    response = api_client.get("/projects/")

    assert response.status_code == 200
    rows = [
        (row["id"], row["name"], row["inbox"], row["owner_id"], row["role"])
        for row in response.json()["results"]
    ]
    assert rows == [
        (inbox.pk, "Inbox", True, owner.pk, "owner"),
        (project.pk, "Engine notes", False, owner.pk, "owner"),
        (theirs.pk, "Lovelace household", False, stranger.pk, "viewer"),
    ]


def test_the_list_needs_a_token(client):
    _problem(client.get("/projects/"), 401, "/problems/not-authenticated")


# --- projectCreate -------------------------------------------------------------------------


def test_create_returns_201_with_location_and_makes_me_the_owner(api_client, owner):
    response = api_client.post(
        "/projects/", {"name": "  Engine notes ", "color": "#1F77B4"}, format="json"
    )

    assert response.status_code == 201, response.content
    project = Project.objects.get(owner=owner, inbox=False)
    assert response["Location"] == f"/projects/{project.pk}/"
    body = response.json()
    assert body == {
        "id": project.pk,
        "name": "Engine notes",
        "color": "#1f77b4",
        "inbox": False,
        "owner_id": owner.pk,
        "role": "owner",
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert body["created_at"].endswith("Z")
    assert project.color == "#1f77b4"
    assert Membership.objects.get(project=project).role == Role.OWNER


def test_create_without_a_colour_stores_none(api_client):
    response = api_client.post("/projects/", {"name": "plain"}, format="json")

    assert response.status_code == 201
    assert response.json()["color"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "a\u0000b"}, "name"),
        ({"name": 7}, "name"),
        ({"name": None}, "name"),
        ({"name": "ok", "color": "blue"}, "color"),
        ({"name": "ok", "color": "#12345"}, "color"),
        ({"name": "ok", "color": ""}, "color"),
        ({"name": "ok", "color": 123456}, "color"),
        ({"name": "ok", "color": "#123456\n"}, "color"),
        ({"name": "ok", "color": " #123456"}, "color"),
    ],
)
def test_invalid_fields_are_a_400_naming_the_field(api_client, owner, body, field):
    response = api_client.post("/projects/", body, format="json")

    _problem(response, 400, "/problems/validation-error")
    assert [name for name, _code in _fields(response)] == [field]
    assert not Project.objects.filter(owner=owner, inbox=False).exists()


def test_a_name_of_120_characters_is_taken(api_client):
    response = api_client.post("/projects/", {"name": "x" * 120}, format="json")

    assert response.status_code == 201
    assert response.json()["name"] == "x" * 120


def test_one_project_past_the_limit_is_a_409_with_a_limit_error(api_client, owner, monkeypatch):
    monkeypatch.setattr(services, "MAX_PROJECTS_PER_USER", 2)
    assert api_client.post("/projects/", {"name": "second"}, format="json").status_code == 201

    response = api_client.post("/projects/", {"name": "third"}, format="json")

    _limit(response)
    assert Membership.objects.filter(user=owner).count() == 2


def test_create_needs_a_token(client):
    _problem(
        client.post("/projects/", {"name": "x"}, format="json"), 401, "/problems/not-authenticated"
    )


# --- projectGet ----------------------------------------------------------------------------


def test_a_member_reads_the_project_with_their_own_role(viewer, project):
    response = _client(viewer).get(f"/projects/{project.pk}/")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["role"]) == (project.pk, "viewer")


def test_a_non_members_answer_is_exactly_a_missing_ids(project, stranger):
    api = _client(stranger)

    theirs = api.get(f"/projects/{project.pk}/")
    missing = api.get(f"/projects/{_missing_project_id()}/")

    _not_found(theirs)
    assert _answer(theirs) == _answer(missing)


def test_an_id_beyond_int64_is_a_404(api_client):
    _not_found(api_client.get(f"/projects/{2**63}/"))


def test_get_needs_a_token(client, project):
    _problem(client.get(f"/projects/{project.pk}/"), 401, "/problems/not-authenticated")


# --- projectUpdate -------------------------------------------------------------------------


def test_the_owner_renames_and_recolours(api_client, project):
    response = api_client.patch(
        f"/projects/{project.pk}/",
        {"name": " Difference engine ", "color": "#ABCDEF"},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["color"], body["role"]) == ("Difference engine", "#abcdef", "owner")
    project.refresh_from_db()
    assert (project.name, project.color) == ("Difference engine", "#abcdef")
    assert project.updated_at > project.created_at


def test_a_null_colour_removes_it_and_leaves_the_name(api_client, project):
    response = api_client.patch(f"/projects/{project.pk}/", {"color": None}, format="json")

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["color"]) == ("Engine notes", None)


def test_the_inbox_may_be_renamed(api_client, inbox):
    response = api_client.patch(f"/projects/{inbox.pk}/", {"name": "Mine"}, format="json")

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["inbox"]) == ("Mine", True)


@pytest.mark.parametrize(
    "body", [{"name": ""}, {"name": "x" * 121}, {"color": "red"}, {"name": None}]
)
def test_an_invalid_patch_is_a_400_and_changes_nothing(api_client, project, body):
    response = api_client.patch(f"/projects/{project.pk}/", body, format="json")

    _problem(response, 400, "/problems/validation-error")
    project.refresh_from_db()
    assert (project.name, project.color) == ("Engine notes", "#1f77b4")


def test_a_patch_without_a_body_is_a_400(api_client, project):
    response = api_client.patch(f"/projects/{project.pk}/")

    _problem(response, 400, "/problems/malformed-request")


def test_an_editor_may_not_rename_the_project(editor, project):
    response = _client(editor).patch(f"/projects/{project.pk}/", {"name": "mine"}, format="json")

    _denied(response, "project:update")
    project.refresh_from_db()
    assert project.name == "Engine notes"


def test_a_non_member_patching_gets_a_404(project, stranger):
    response = _client(stranger).patch(f"/projects/{project.pk}/", {"name": "x"}, format="json")

    _not_found(response)
    project.refresh_from_db()
    assert project.name == "Engine notes"


def test_update_needs_a_token(client, project):
    response = client.patch(f"/projects/{project.pk}/", {"name": "x"}, format="json")

    _problem(response, 401, "/problems/not-authenticated")


# --- projectDelete -------------------------------------------------------------------------


def test_delete_erases_the_project_and_its_tasks_and_members_lose_it(
    api_client, owner, project, editor
):
    editor_api = _client(editor)
    task = api_client.post("/tasks/", {"title": "t", "project_id": project.pk}, format="json")
    assert task.status_code == 201, task.content
    task_id = task.json()["id"]
    token = _sync(editor_api)["sync_token"]

    response = api_client.delete(f"/projects/{project.pk}/")

    assert response.status_code == 204
    assert response.content == b""
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Task.objects.filter(pk=task_id).exists()
    assert not Membership.objects.filter(project_id=project.pk).exists()
    _not_found(editor_api.get(f"/projects/{project.pk}/"))
    assert task_id in _sync(editor_api, token)["deleted"]


def test_the_inbox_cannot_be_deleted(api_client, inbox):
    _conflict(api_client.delete(f"/projects/{inbox.pk}/"))

    assert Project.objects.filter(pk=inbox.pk).exists()


def test_an_editor_may_not_delete_the_project(editor, project):
    _denied(_client(editor).delete(f"/projects/{project.pk}/"), "project:delete")

    assert Project.objects.filter(pk=project.pk).exists()


def test_a_non_member_deleting_gets_a_404(project, stranger):
    _not_found(_client(stranger).delete(f"/projects/{project.pk}/"))

    assert Project.objects.filter(pk=project.pk).exists()


def test_delete_needs_a_token(client, project):
    _problem(client.delete(f"/projects/{project.pk}/"), 401, "/problems/not-authenticated")


# --- projectLeave --------------------------------------------------------------------------


def test_a_member_leaves_and_their_tasks_there_are_unassigned(api_client, project, editor):
    assigned = api_client.post(
        "/tasks/",
        {"title": "yours", "project_id": project.pk, "assignee_id": editor.pk},
        format="json",
    )
    assert assigned.status_code == 201, assigned.content
    assert assigned.json()["assignee_id"] == editor.pk
    editor_api = _client(editor)

    response = editor_api.post(f"/projects/{project.pk}/leave/")

    assert response.status_code == 204
    assert not Membership.objects.filter(project=project, user=editor).exists()
    assert api_client.get(f"/tasks/{assigned.json()['id']}/").json()["assignee_id"] is None
    _not_found(editor_api.get(f"/projects/{project.pk}/"))


def test_the_owner_cannot_leave(api_client, owner, project):
    _conflict(api_client.post(f"/projects/{project.pk}/leave/"))

    assert Membership.objects.get(project=project, user=owner).role == Role.OWNER


def test_the_inboxs_owner_cannot_leave_it(api_client, owner, inbox):
    _conflict(api_client.post(f"/projects/{inbox.pk}/leave/"))

    assert Membership.objects.filter(project=inbox, user=owner).exists()


def test_a_non_member_leaving_gets_a_404(project, stranger):
    _not_found(_client(stranger).post(f"/projects/{project.pk}/leave/"))


def test_leave_needs_a_token(client, project):
    _problem(client.post(f"/projects/{project.pk}/leave/"), 401, "/problems/not-authenticated")


# --- projectTransfer -----------------------------------------------------------------------


def test_a_hand_over_makes_the_member_owner_and_the_old_owner_an_editor(
    api_client, owner, project, editor
):
    response = api_client.post(
        f"/projects/{project.pk}/transfer/", {"user_id": editor.pk}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["owner_id"], body["role"]) == (editor.pk, "editor")
    roles = dict(Membership.objects.filter(project=project).values_list("user_id", "role"))
    assert roles == {owner.pk: "editor", editor.pk: "owner"}
    # The rules follow the hand-over at once.
    _denied(
        api_client.patch(f"/projects/{project.pk}/", {"name": "x"}, format="json"), "project:update"
    )
    renamed = _client(editor).patch(f"/projects/{project.pk}/", {"name": "x"}, format="json")
    assert renamed.status_code == 200
    assert renamed.json()["role"] == "owner"


def test_handing_over_to_a_non_member_or_no_user_is_the_same_400(api_client, project, stranger):
    to_stranger = api_client.post(
        f"/projects/{project.pk}/transfer/", {"user_id": stranger.pk}, format="json"
    )
    to_nobody = api_client.post(
        f"/projects/{project.pk}/transfer/", {"user_id": stranger.pk + 1000}, format="json"
    )

    _problem(to_stranger, 400, "/problems/validation-error")
    assert _fields(to_stranger) == [("user_id", "does_not_exist")]
    assert _answer(to_stranger) == _answer(to_nobody)
    project.refresh_from_db()
    assert project.owner_id != stranger.pk


@pytest.mark.parametrize("body", [{}, {"user_id": "5"}, {"user_id": 0}, {"user_id": True}])
def test_an_invalid_user_id_is_a_400_on_user_id(api_client, project, body):
    response = api_client.post(f"/projects/{project.pk}/transfer/", body, format="json")

    _problem(response, 400, "/problems/validation-error")
    assert [field for field, _code in _fields(response)] == ["user_id"]


def test_handing_over_to_myself_is_a_400(api_client, owner, project):
    response = api_client.post(
        f"/projects/{project.pk}/transfer/", {"user_id": owner.pk}, format="json"
    )

    assert _fields(response) == [("user_id", "does_not_exist")]


def test_the_inbox_cannot_be_handed_over(api_client, owner, inbox, project, editor):
    response = api_client.post(
        f"/projects/{inbox.pk}/transfer/", {"user_id": editor.pk}, format="json"
    )

    _conflict(response)
    inbox.refresh_from_db()
    assert inbox.owner_id == owner.pk


def test_an_editor_may_not_hand_over(owner, project, editor, viewer):
    response = _client(editor).post(
        f"/projects/{project.pk}/transfer/", {"user_id": viewer.pk}, format="json"
    )

    _denied(response, "member:manage")
    project.refresh_from_db()
    assert project.owner_id == owner.pk


def test_a_non_member_handing_over_gets_a_404(project, stranger, editor):
    response = _client(stranger).post(
        f"/projects/{project.pk}/transfer/", {"user_id": editor.pk}, format="json"
    )

    _not_found(response)


def test_transfer_needs_a_token(client, project, editor):
    response = client.post(
        f"/projects/{project.pk}/transfer/", {"user_id": editor.pk}, format="json"
    )

    _problem(response, 401, "/problems/not-authenticated")


# --- memberList ----------------------------------------------------------------------------


def test_members_are_listed_by_joining_time_with_their_roles(owner, project, editor, viewer):
    response = _client(viewer).get(f"/projects/{project.pk}/members/")

    assert response.status_code == 200
    rows = [(row["user_id"], row["email"], row["role"]) for row in response.json()["results"]]
    assert rows == [
        (owner.pk, owner.email, "owner"),
        (editor.pk, editor.email, "editor"),
        (viewer.pk, viewer.email, "viewer"),
    ]
    assert all(row["joined_at"].endswith("Z") for row in response.json()["results"])


def test_members_who_joined_at_the_same_moment_are_ordered_by_user_id(
    api_client, project, editor, viewer
):
    Membership.objects.filter(project=project).update(joined_at=timezone.now())

    response = api_client.get(f"/projects/{project.pk}/members/")

    ids = [row["user_id"] for row in response.json()["results"]]
    assert ids == sorted(ids)


def test_a_non_member_listing_members_gets_a_404(project, stranger):
    _not_found(_client(stranger).get(f"/projects/{project.pk}/members/"))


def test_member_list_needs_a_token(client, project):
    _problem(client.get(f"/projects/{project.pk}/members/"), 401, "/problems/not-authenticated")


# --- memberUpdate --------------------------------------------------------------------------


def test_the_owner_changes_a_members_role(api_client, project, editor):
    response = api_client.patch(
        f"/projects/{project.pk}/members/{editor.pk}/", {"role": "viewer"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["user_id"], body["email"], body["role"]) == (editor.pk, editor.email, "viewer")
    assert Membership.objects.get(project=project, user=editor).role == Role.VIEWER
    # A viewer now: writing a task is refused.
    refused = _client(editor).post(
        "/tasks/", {"title": "t", "project_id": project.pk}, format="json"
    )
    _denied(refused, "task:write")


@pytest.mark.parametrize(
    "body", [{}, {"role": "owner"}, {"role": "admin"}, {"role": 1}, {"role": None}]
)
def test_an_invalid_role_is_a_400_on_role(api_client, project, editor, body):
    response = api_client.patch(f"/projects/{project.pk}/members/{editor.pk}/", body, format="json")

    _problem(response, 400, "/problems/validation-error")
    assert [field for field, _code in _fields(response)] == ["role"]
    assert Membership.objects.get(project=project, user=editor).role == Role.EDITOR


def test_the_owners_own_role_changes_only_by_a_hand_over(api_client, owner, project):
    response = api_client.patch(
        f"/projects/{project.pk}/members/{owner.pk}/", {"role": "editor"}, format="json"
    )

    _conflict(response)
    assert Membership.objects.get(project=project, user=owner).role == Role.OWNER


def test_changing_the_role_of_a_non_member_is_a_404(api_client, project, stranger):
    response = api_client.patch(
        f"/projects/{project.pk}/members/{stranger.pk}/", {"role": "viewer"}, format="json"
    )

    body = _not_found(response)
    assert body["title"] == "Member not found."
    assert not Membership.objects.filter(project=project, user=stranger).exists()


def test_an_editor_may_not_change_roles(project, editor, viewer):
    response = _client(editor).patch(
        f"/projects/{project.pk}/members/{viewer.pk}/", {"role": "editor"}, format="json"
    )

    _denied(response, "member:manage")
    assert Membership.objects.get(project=project, user=viewer).role == Role.VIEWER


def test_a_non_member_changing_roles_gets_the_projects_404(project, stranger, editor):
    response = _client(stranger).patch(
        f"/projects/{project.pk}/members/{editor.pk}/", {"role": "viewer"}, format="json"
    )

    assert _not_found(response)["title"] == "Project not found."


def test_member_update_needs_a_token(client, project, editor):
    response = client.patch(
        f"/projects/{project.pk}/members/{editor.pk}/", {"role": "viewer"}, format="json"
    )

    _problem(response, 401, "/problems/not-authenticated")


# --- memberRemove --------------------------------------------------------------------------


def test_removing_a_member_ends_their_access_and_unassigns_their_tasks(api_client, project, editor):
    assigned = api_client.post(
        "/tasks/",
        {"title": "yours", "project_id": project.pk, "assignee_id": editor.pk},
        format="json",
    )
    assert assigned.status_code == 201, assigned.content
    task_id = assigned.json()["id"]

    response = api_client.delete(f"/projects/{project.pk}/members/{editor.pk}/")

    assert response.status_code == 204
    assert not Membership.objects.filter(project=project, user=editor).exists()
    assert api_client.get(f"/tasks/{task_id}/").json()["assignee_id"] is None
    _not_found(_client(editor).get(f"/tasks/{task_id}/"))


def test_the_owner_cannot_be_removed(api_client, owner, project):
    _conflict(api_client.delete(f"/projects/{project.pk}/members/{owner.pk}/"))

    assert Membership.objects.filter(project=project, user=owner).exists()


def test_removing_a_non_member_is_a_404(api_client, project, stranger):
    _not_found(api_client.delete(f"/projects/{project.pk}/members/{stranger.pk}/"))


def test_an_editor_may_not_remove_a_member(project, editor, viewer):
    _denied(_client(editor).delete(f"/projects/{project.pk}/members/{viewer.pk}/"), "member:manage")

    assert Membership.objects.filter(project=project, user=viewer).exists()


def test_member_remove_needs_a_token(client, project, editor):
    response = client.delete(f"/projects/{project.pk}/members/{editor.pk}/")

    _problem(response, 401, "/problems/not-authenticated")


# --- invitationCreate ----------------------------------------------------------------------


def test_an_invitation_is_made_for_a_normalised_email_for_14_days(api_client, owner, project):
    response = api_client.post(
        f"/projects/{project.pk}/invitations/",
        {"email": "  Charles@Example.COM ", "role": "viewer"},
        format="json",
    )

    assert response.status_code == 201, response.content
    invitation = Invitation.objects.get(project=project)
    body = response.json()
    assert body == {
        "id": invitation.pk,
        "project_id": project.pk,
        "project_name": "Engine notes",
        "email": "charles@example.com",
        "role": "viewer",
        "invited_by": owner.email,
        "created_at": body["created_at"],
        "expires_at": body["expires_at"],
    }
    assert invitation.expires_at - invitation.created_at == timedelta(days=14)


def test_the_answer_is_the_same_whether_or_not_an_account_has_the_email(api_client, project):
    registered = UserFactory(email="has-account@example.com")

    with CaptureQueriesContext(connection) as known_queries:
        known = api_client.post(
            f"/projects/{project.pk}/invitations/",
            {"email": registered.email, "role": "editor"},
            format="json",
        )
    with CaptureQueriesContext(connection) as unknown_queries:
        unknown = api_client.post(
            f"/projects/{project.pk}/invitations/",
            {"email": "no-account@example.com", "role": "editor"},
            format="json",
        )

    assert known.status_code == unknown.status_code == 201
    varying = {"id", "email", "created_at", "expires_at"}
    known_body = {k: v for k, v in known.json().items() if k not in varying}
    unknown_body = {k: v for k, v in unknown.json().items() if k not in varying}
    assert known_body == unknown_body
    assert known.json().keys() == unknown.json().keys()
    same_headers = PER_REQUEST_HEADERS | {"content-length"}
    assert {k.lower() for k in known.headers} - same_headers == {
        k.lower() for k in unknown.headers
    } - same_headers
    # The same work for both: the email is looked for among the project's members only (the
    # "already a member" 409), never among all accounts.
    assert len(known_queries) == len(unknown_queries)
    by_email = [
        query["sql"]
        for query in known_queries.captured_queries
        if "accounts_user" in query["sql"] and registered.email in query["sql"]
    ]
    assert by_email
    assert all("projects_membership" in sql for sql in by_email)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "editor"}, "email"),
        ({"email": "not-an-email", "role": "editor"}, "email"),
        ({"email": 7, "role": "editor"}, "email"),
        ({"email": "a@example.com"}, "role"),
        ({"email": "a@example.com", "role": "owner"}, "role"),
        ({"email": "a@example.com", "role": "EDITOR"}, "role"),
    ],
)
def test_an_invalid_invitation_is_a_400_naming_the_field(api_client, project, body, field):
    response = api_client.post(f"/projects/{project.pk}/invitations/", body, format="json")

    _problem(response, 400, "/problems/validation-error")
    assert [name for name, _code in _fields(response)] == [field]
    assert not Invitation.objects.exists()


def test_inviting_a_members_email_is_a_409(api_client, project, editor):
    response = api_client.post(
        f"/projects/{project.pk}/invitations/",
        {"email": editor.email.upper(), "role": "viewer"},
        format="json",
    )

    _conflict(response)
    assert not Invitation.objects.filter(project=project).exists()


def test_inviting_an_email_already_invited_is_a_409(api_client, owner, project):
    _invite(owner, project.pk, "charles@example.com")

    response = api_client.post(
        f"/projects/{project.pk}/invitations/",
        {"email": "Charles@example.com", "role": "viewer"},
        format="json",
    )

    _conflict(response)
    assert list(Invitation.objects.values_list("role", flat=True)) == ["editor"]


def test_an_expired_invitation_does_not_stop_a_new_one(api_client, owner, project):
    _expire(_invite(owner, project.pk, "charles@example.com"))

    response = api_client.post(
        f"/projects/{project.pk}/invitations/",
        {"email": "charles@example.com", "role": "viewer"},
        format="json",
    )

    assert response.status_code == 201
    assert list(Invitation.objects.values_list("role", flat=True)) == ["viewer"]


def test_the_inbox_is_never_shared(api_client, inbox):
    response = api_client.post(
        f"/projects/{inbox.pk}/invitations/",
        {"email": "charles@example.com", "role": "editor"},
        format="json",
    )

    _conflict(response)
    assert not Invitation.objects.exists()


def test_one_pending_invitation_past_the_limit_is_a_409(api_client, owner, project, monkeypatch):
    monkeypatch.setattr(services, "MAX_PENDING_INVITATIONS_PER_PROJECT", 2)
    _invite(owner, project.pk, "one@example.com")
    _invite(owner, project.pk, "two@example.com")

    response = api_client.post(
        f"/projects/{project.pk}/invitations/",
        {"email": "three@example.com", "role": "editor"},
        format="json",
    )

    _limit(response)
    assert Invitation.objects.filter(project=project).count() == 2


def test_an_editor_may_not_invite(project, editor):
    response = _client(editor).post(
        f"/projects/{project.pk}/invitations/",
        {"email": "charles@example.com", "role": "viewer"},
        format="json",
    )

    _denied(response, "invitation:manage")
    assert not Invitation.objects.exists()


def test_a_non_member_inviting_gets_a_404(project, stranger):
    response = _client(stranger).post(
        f"/projects/{project.pk}/invitations/",
        {"email": "charles@example.com", "role": "viewer"},
        format="json",
    )

    _not_found(response)
    assert not Invitation.objects.exists()


def test_invitation_create_needs_a_token(client, project):
    response = client.post(
        f"/projects/{project.pk}/invitations/",
        {"email": "charles@example.com", "role": "viewer"},
        format="json",
    )

    _problem(response, 401, "/problems/not-authenticated")


# --- invitationList ------------------------------------------------------------------------


def test_the_owner_lists_the_pending_unexpired_invitations_by_id(api_client, owner, project):
    first = _invite(owner, project.pk, "one@example.com")
    _expire(_invite(owner, project.pk, "gone@example.com"))
    third = _invite(owner, project.pk, "three@example.com", Role.VIEWER)
    other = project_create(user=owner, data={"name": "other"})
    _invite(owner, other.pk, "elsewhere@example.com")

    response = api_client.get(f"/projects/{project.pk}/invitations/")

    assert response.status_code == 200
    rows = [
        (row["id"], row["email"], row["role"], row["project_name"], row["invited_by"])
        for row in response.json()["results"]
    ]
    assert rows == [
        (first.pk, "one@example.com", "editor", "Engine notes", owner.email),
        (third.pk, "three@example.com", "viewer", "Engine notes", owner.email),
    ]


def test_an_editor_may_not_list_invitations(project, editor):
    _denied(_client(editor).get(f"/projects/{project.pk}/invitations/"), "invitation:manage")


def test_a_non_member_listing_invitations_gets_a_404(project, stranger):
    _not_found(_client(stranger).get(f"/projects/{project.pk}/invitations/"))


def test_invitation_list_needs_a_token(client, project):
    response = client.get(f"/projects/{project.pk}/invitations/")

    _problem(response, 401, "/problems/not-authenticated")


# --- invitationRevoke ----------------------------------------------------------------------


def test_a_revoked_invitation_can_no_longer_be_accepted(api_client, owner, project, stranger):
    invitation = _invite(owner, project.pk, stranger.email)

    response = api_client.delete(f"/projects/{project.pk}/invitations/{invitation.pk}/")

    assert response.status_code == 204
    assert not Invitation.objects.filter(pk=invitation.pk).exists()
    _not_found(_client(stranger).post(f"/invitations/{invitation.pk}/accept/"))


def test_revoking_an_invitation_of_another_project_is_a_404(api_client, owner, project):
    other = project_create(user=owner, data={"name": "other"})
    invitation = _invite(owner, other.pk, "charles@example.com")

    response = api_client.delete(f"/projects/{project.pk}/invitations/{invitation.pk}/")

    assert _not_found(response)["title"] == "Invitation not found."
    assert Invitation.objects.filter(pk=invitation.pk).exists()


def test_revoking_a_missing_invitation_is_a_404(api_client, project):
    _not_found(api_client.delete(f"/projects/{project.pk}/invitations/{2**63}/"))


def test_an_editor_may_not_revoke(owner, project, editor):
    invitation = _invite(owner, project.pk, "charles@example.com")

    response = _client(editor).delete(f"/projects/{project.pk}/invitations/{invitation.pk}/")

    _denied(response, "invitation:manage")
    assert Invitation.objects.filter(pk=invitation.pk).exists()


def test_a_non_member_revoking_gets_a_404(owner, project, stranger):
    invitation = _invite(owner, project.pk, "charles@example.com")

    _not_found(_client(stranger).delete(f"/projects/{project.pk}/invitations/{invitation.pk}/"))
    assert Invitation.objects.filter(pk=invitation.pk).exists()


def test_revoke_needs_a_token(client, owner, project):
    invitation = _invite(owner, project.pk, "charles@example.com")

    response = client.delete(f"/projects/{project.pk}/invitations/{invitation.pk}/")

    _problem(response, 401, "/problems/not-authenticated")


# --- myInvitationList ----------------------------------------------------------------------


def test_i_see_the_pending_invitations_addressed_to_my_email_only(owner, project, stranger):
    mine = _invite(owner, project.pk, stranger.email.upper())
    _invite(owner, project.pk, "someone-else@example.com")
    other = project_create(user=owner, data={"name": "Expired"})
    _expire(_invite(owner, other.pk, stranger.email))

    response = _client(stranger).get("/invitations/")

    assert response.status_code == 200
    assert [
        (row["id"], row["project_id"], row["project_name"]) for row in response.json()["results"]
    ] == [(mine.pk, project.pk, "Engine notes")]


def test_my_invitation_list_needs_a_token(client):
    _problem(client.get("/invitations/"), 401, "/problems/not-authenticated")


# --- invitationAccept ----------------------------------------------------------------------


def test_accepting_makes_me_a_member_with_the_invitations_role(
    api_client, owner, project, stranger
):
    task = api_client.post("/tasks/", {"title": "shared", "project_id": project.pk}, format="json")
    invitation = _invite(owner, project.pk, stranger.email, Role.VIEWER)
    api = _client(stranger)

    response = api.post(f"/invitations/{invitation.pk}/accept/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["role"], body["owner_id"], body["inbox"]) == (
        project.pk,
        "viewer",
        owner.pk,
        False,
    )
    assert Membership.objects.get(project=project, user=stranger).role == Role.VIEWER
    assert not Invitation.objects.filter(pk=invitation.pk).exists()
    assert project.pk in [row["id"] for row in api.get("/projects/").json()["results"]]
    assert api.get(f"/tasks/{task.json()['id']}/").status_code == 200


def test_an_invitation_addressed_to_someone_else_is_a_404(owner, project, stranger):
    invitation = _invite(owner, project.pk, "someone-else@example.com")

    _not_found(_client(stranger).post(f"/invitations/{invitation.pk}/accept/"))
    assert not Membership.objects.filter(project=project, user=stranger).exists()
    assert Invitation.objects.filter(pk=invitation.pk).exists()


def test_an_expired_invitation_cannot_be_accepted(owner, project, stranger):
    invitation = _invite(owner, project.pk, stranger.email)
    _expire(invitation)
    api = _client(stranger)

    _not_found(api.post(f"/invitations/{invitation.pk}/accept/"))
    assert not Membership.objects.filter(project=project, user=stranger).exists()
    assert api.get("/invitations/").json()["results"] == []


def test_an_invitation_is_accepted_once(owner, project, stranger):
    invitation = _invite(owner, project.pk, stranger.email)
    api = _client(stranger)
    assert api.post(f"/invitations/{invitation.pk}/accept/").status_code == 200

    _not_found(api.post(f"/invitations/{invitation.pk}/accept/"))


def test_a_missing_invitation_and_someone_elses_answer_alike(owner, project, stranger):
    invitation = _invite(owner, project.pk, "someone-else@example.com")
    api = _client(stranger)

    theirs = api.post(f"/invitations/{invitation.pk}/accept/")
    missing = api.post(f"/invitations/{invitation.pk + 1000}/accept/")

    _not_found(theirs)
    assert _answer(theirs) == _answer(missing)
    _not_found(api.post(f"/invitations/{2**63}/accept/"))


def test_accepting_past_the_member_limit_is_a_409_and_the_invitation_stays(
    owner, project, editor, stranger, monkeypatch
):
    monkeypatch.setattr(services, "MAX_MEMBERS_PER_PROJECT", 2)  # the owner and the editor
    invitation = _invite(owner, project.pk, stranger.email)

    response = _client(stranger).post(f"/invitations/{invitation.pk}/accept/")

    _limit(response)
    assert not Membership.objects.filter(project=project, user=stranger).exists()
    assert Invitation.objects.filter(pk=invitation.pk).exists()


def test_accepting_past_the_project_limit_is_a_409_and_the_invitation_stays(
    owner, project, stranger, monkeypatch
):
    monkeypatch.setattr(services, "MAX_PROJECTS_PER_USER", 1)  # the stranger's Inbox
    invitation = _invite(owner, project.pk, stranger.email)

    response = _client(stranger).post(f"/invitations/{invitation.pk}/accept/")

    _limit(response)
    assert not Membership.objects.filter(project=project, user=stranger).exists()
    assert Invitation.objects.filter(pk=invitation.pk).exists()


def test_accept_needs_a_token(client, owner, project, stranger):
    invitation = _invite(owner, project.pk, stranger.email)

    _problem(
        client.post(f"/invitations/{invitation.pk}/accept/"), 401, "/problems/not-authenticated"
    )
    assert Invitation.objects.filter(pk=invitation.pk).exists()


# --- invitationDecline ---------------------------------------------------------------------


def test_declining_deletes_the_invitation_without_joining(owner, project, stranger):
    invitation = _invite(owner, project.pk, stranger.email)
    api = _client(stranger)

    response = api.post(f"/invitations/{invitation.pk}/decline/")

    assert response.status_code == 204
    assert not Invitation.objects.filter(pk=invitation.pk).exists()
    assert not Membership.objects.filter(project=project, user=stranger).exists()
    _not_found(api.post(f"/invitations/{invitation.pk}/accept/"))


def test_declining_someone_elses_or_an_expired_invitation_is_a_404(owner, project, stranger):
    theirs = _invite(owner, project.pk, "someone-else@example.com")
    expired = _invite(owner, project.pk, stranger.email)
    _expire(expired)
    api = _client(stranger)

    _not_found(api.post(f"/invitations/{theirs.pk}/decline/"))
    _not_found(api.post(f"/invitations/{expired.pk}/decline/"))
    assert Invitation.objects.filter(pk=theirs.pk).exists()


def test_decline_needs_a_token(client, owner, project, stranger):
    invitation = _invite(owner, project.pk, stranger.email)

    _problem(
        client.post(f"/invitations/{invitation.pk}/decline/"), 401, "/problems/not-authenticated"
    )
    assert Invitation.objects.filter(pk=invitation.pk).exists()


# --- bodies that are not JSON --------------------------------------------------------------

BODY_OPERATIONS = [
    ("post", "/projects/"),
    ("patch", "/projects/{project}/"),
    ("post", "/projects/{project}/transfer/"),
    ("patch", "/projects/{project}/members/{editor}/"),
    ("post", "/projects/{project}/invitations/"),
]


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS)
def test_a_body_that_is_not_json_is_a_415(api_client, project, editor, method, path):
    url = path.format(project=project.pk, editor=editor.pk)

    response = getattr(api_client, method)(url, "name=x", content_type="text/plain")

    _problem(response, 415, "about:blank")


# --- account deletion ----------------------------------------------------------------------


def test_deleting_an_account_erases_its_projects_and_leaves_the_others(
    api_client, owner, project, editor, stranger
):
    theirs = project_create(user=stranger, data={"name": "Lovelace household"})
    _join(stranger, theirs.pk, owner, Role.EDITOR)
    stranger_api = _client(stranger)
    assigned = stranger_api.post(
        "/tasks/", {"title": "t", "project_id": theirs.pk, "assignee_id": owner.pk}, format="json"
    )
    assert assigned.status_code == 201, assigned.content
    owned_task = api_client.post(
        "/tasks/", {"title": "mine", "project_id": project.pk}, format="json"
    )
    assert owned_task.status_code == 201

    response = api_client.delete("/auth/me/", {"password": PASSWORD}, format="json")

    assert response.status_code == 204, response.content
    assert not User.objects.filter(pk=owner.pk).exists()
    # Its project is gone for its members too, with its tasks.
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Task.objects.filter(pk=owned_task.json()["id"]).exists()
    _not_found(_client(editor).get(f"/projects/{project.pk}/"))
    # The project it had joined remains, without it; its tasks there are unassigned.
    members = stranger_api.get(f"/projects/{theirs.pk}/members/").json()["results"]
    assert [row["user_id"] for row in members] == [stranger.pk]
    assert stranger_api.get(f"/tasks/{assigned.json()['id']}/").json()["assignee_id"] is None
