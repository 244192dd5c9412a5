"""Refusals come in one order: 401, a non-member's 404, a member's 403, then 412 and 400
(projects.policy.before_other_refusals; RFC 9110 §13.2.1).

Each request here is one the owner is refused too, with a 412 or a 400: a member without the
permission still hears the 403 naming it (the request is not theirs to make, whatever it says),
and a non-member hears exactly what the same request gets with a missing id.
"""

import pytest
from rest_framework.test import APIClient

from taskapi.accounts.models import User
from taskapi.projects.models import Role
from taskapi.projects.services import invitation_accept, invitation_create, project_create
from taskapi.tasks.serializers import TaskCreateIn
from taskapi.tasks.services import task_create, task_trash
from tests.conftest import token_pair_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PER_REQUEST_HEADERS = {"date", "x-request-id"}
JSON = "application/json"
BAD_ETAG = {"HTTP_IF_MATCH": '"999999"'}

# (name, method, path, body, headers, permission, the owner's status): {project}, {task},
# {trashed}, {member} are filled in with the shared project's ids.
CASES = [
    (
        "project update, invalid body",
        "patch",
        "/projects/{project}/",
        [1],
        {},
        "project:update",
        400,
    ),
    ("project update, no body", "patch", "/projects/{project}/", None, {}, "project:update", 400),
    (
        "transfer, invalid body",
        "post",
        "/projects/{project}/transfer/",
        {},
        {},
        "member:manage",
        400,
    ),
    (
        "member update, invalid body",
        "patch",
        "/projects/{project}/members/{member}/",
        {"role": "king"},
        {},
        "member:manage",
        400,
    ),
    (
        "invitation, invalid body",
        "post",
        "/projects/{project}/invitations/",
        {"email": "no"},
        {},
        "invitation:manage",
        400,
    ),
    (
        "task create, no title",
        "post",
        "/tasks/",
        {"project_id": "{project}"},
        {},
        "task:write",
        400,
    ),
    (
        "task patch, stale ETag",
        "patch",
        "/tasks/{task}/",
        {"title": "x"},
        BAD_ETAG,
        "task:write",
        412,
    ),
    ("task patch, invalid body", "patch", "/tasks/{task}/", {"title": ""}, {}, "task:write", 400),
    (
        "task replace, stale ETag",
        "put",
        "/tasks/{task}/",
        {"title": "x"},
        BAD_ETAG,
        "task:write",
        412,
    ),
    ("task replace, no title", "put", "/tasks/{task}/", {}, {}, "task:write", 400),
    ("move, stale ETag", "post", "/tasks/{task}/move/", {}, BAD_ETAG, "task:write", 412),
    ("move, invalid body", "post", "/tasks/{task}/move/", {"after_id": "x"}, {}, "task:write", 400),
    ("trash, stale ETag", "delete", "/tasks/{task}/", None, BAD_ETAG, "task:write", 412),
    (
        "restore, stale ETag",
        "post",
        "/tasks/{trashed}/restore/",
        None,
        BAD_ETAG,
        "trash:write",
        412,
    ),
]


def _client(user: User) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_for(user).access}")
    return api


def _join(owner: User, project_id: int, role: str) -> User:
    member = UserFactory()
    invitation = invitation_create(user=owner, project_id=project_id, email=member.email, role=role)
    invitation_accept(user=member, email=member.email, invitation_id=invitation.pk)
    return member


@pytest.fixture
def shared(user):
    project = project_create(user=user, data={"name": "Engine notes"})
    new = TaskCreateIn(data={"title": "Gears", "project_id": project.pk}).validated()
    task = task_create(user=user, data=new)
    trashed = task_create(user=user, data={**new, "title": "Old gears"})
    task_trash(user=user, task_id=trashed.pk)
    return {
        "owner": user,
        "editor": _join(user, project.pk, Role.EDITOR),
        "viewer": _join(user, project.pk, Role.VIEWER),
        "stranger": UserFactory(),
        "ids": {"project": project.pk, "task": task.pk, "trashed": trashed.pk},
    }


def _fill(value, ids: dict[str, int]):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


def _send(user: User, case, ids: dict[str, int]):
    _name, method, path, body, headers, _permission, _status = case
    url = path.format(**ids)
    if body is None:
        return getattr(_client(user), method)(url, **headers)
    return getattr(_client(user), method)(url, _fill(body, ids), format="json", **headers)


def _holders(permission: str) -> set[str]:
    return (
        {"owner"}
        if permission.split(":")[0] in {"project", "member", "invitation"}
        else {
            "owner",
            "editor",
        }
    )


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_a_member_without_the_permission_hears_403_before_the_412_or_400(shared, case):
    *_rest, permission, owners_status = case
    ids = {**shared["ids"], "member": shared["editor"].pk}

    assert _send(shared["owner"], case, ids).status_code == owners_status
    for subject in ("editor", "viewer"):
        response = _send(shared[subject], case, ids)
        if subject in _holders(permission):
            assert response.status_code == owners_status, (subject, response.content)
            continue
        assert response.status_code == 403, (subject, response.content)
        assert response.json()["type"] == "/problems/permission-denied"
        assert response.json()["permission"] == permission


def _answer(response) -> tuple[int, dict[str, str], bytes]:
    headers = {
        name.lower(): value
        for name, value in response.items()
        if name.lower() not in PER_REQUEST_HEADERS
    }
    return response.status_code, headers, response.content


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_a_non_member_hears_what_a_missing_id_gets(shared, case):
    ids = {**shared["ids"], "member": shared["editor"].pk}
    missing = {name: value + 100_000 for name, value in ids.items()}

    theirs = _answer(_send(shared["stranger"], case, ids))
    nobodys = _answer(_send(shared["stranger"], case, missing))

    assert theirs == nobodys
    assert theirs[0] in {400, 404}
