"""A shared project with one user of every kind the authorization matrix names, and what its
owner sees of it, for tests/projects/test_matrix.py.

Built through the services, not over HTTP: the same rows, in a fraction of the time, and every
case gets a fresh one (a holder's success may change anything in it).

The subjects: the project's `owner`, an `editor` and a `viewer` (each joined by accepting an
invitation); a `nonmember` (a registered user never invited); `removed` (joined as an editor,
then removed by the owner); `invited` (an editor's invitation, not accepted); `anonymous` (no
token). `member` is one more editor, the one member operations act on, so that no subject is
its own target.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Max, Q
from rest_framework.test import APIClient

from taskapi.accounts.models import User
from taskapi.projects.models import Invitation, Membership, Project
from taskapi.projects.services import (
    invitation_accept,
    invitation_create,
    member_remove,
    project_create,
)
from taskapi.sync.models import Change, ChangeCounter
from taskapi.tasks.models import Task, TaskLabel
from taskapi.tasks.serializers import TaskCreateIn
from taskapi.tasks.services import task_create, task_trash
from taskapi.webhooks.models import Event
from tests.conftest import token_pair_for
from tests.factories import UserFactory, WebhookFactory

SUBJECTS = ("owner", "editor", "viewer", "nonmember", "removed", "invited", "anonymous")
# The role each subject holds in the project; the others hold none.
ROLES = {"owner": "owner", "editor": "editor", "viewer": "viewer"}
OUTSIDERS = ("nonmember", "removed", "invited")
# An invitation that no account answers: the one invitationRevoke revokes.
SPARE_EMAIL = "nobody-yet@example.com"

# Headers that differ between any two answers, whatever they answer (the same set the contract
# fuzzing's isolation replay ignores, contract/fuzzing/isolation/replay.py, less what only a
# proxy adds); every other header must be the same for a non-member and for a missing id.
PER_REQUEST_HEADERS = frozenset({"date", "x-request-id"})


@dataclass(frozen=True)
class Ids:
    """The ids a request names. `missing(...)` gives the same ids with some replaced by ids
    that no object has: the request a non-member's answer must equal."""

    project: int
    task: int  # top-level, live
    sibling: int  # top-level, live, after `task`
    subtask: int  # under `task`
    trashed: int  # in the project's trash
    member: int  # the user id of `member`, an editor
    invitation: int  # the pending invitation to SPARE_EMAIL
    user: int  # a user id, for assignee_id (whoever the test names)
    absent: dict[str, int] = field(repr=False, compare=False, default_factory=dict)

    def missing(self, *names: str) -> Ids:
        return replace(self, **{name: self.absent[name] for name in names})


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, or one result of a bulk write, as the matrix compares them."""

    status: int
    headers: dict[str, str]
    body: Any  # parsed JSON, or None for an empty body

    @classmethod
    def of(cls, response: Any) -> Answer:
        headers = {
            name.lower(): value
            for name, value in response.items()
            if name.lower() not in PER_REQUEST_HEADERS
        }
        body = json.loads(response.content) if response.content else None
        return cls(response.status_code, headers, body)


@dataclass
class SharedProject:
    users: dict[str, User]
    project_id: int
    ids: Ids
    _clients: dict[str, APIClient] = field(default_factory=dict)

    @property
    def owner(self) -> User:
        return self.users["owner"]

    @property
    def live_task_ids(self) -> list[int]:
        return sorted([self.ids.task, self.ids.sibling, self.ids.subtask])

    def client(self, subject: str) -> APIClient:
        """An API client of the subject: a real Bearer token, or none for `anonymous`."""
        if subject not in self._clients:
            api = APIClient()
            if subject != "anonymous":
                token = token_pair_for(self.users[subject]).access
                api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            self._clients[subject] = api
        return self._clients[subject]

    def own_task(self, subject: str) -> int:
        """A new task in the subject's Inbox (theirs, whatever they are in the project)."""
        return task_in(self.users[subject], title=f"{subject}'s own").pk

    def inbox_tasks(self, subject: str) -> list[int]:
        """The ids of the tasks in the subject's Inbox, the trash included."""
        return list(
            Task.objects.filter(project__owner=self.users[subject], project__inbox=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )

    def owner_view(self) -> dict[str, Any]:
        """Everything of the project the owner can read over HTTP (bodies and ETags), and its
        rows: equal before and after a refusal, or the refusal changed something."""
        owner = self.client("owner")
        paths = [
            f"/projects/{self.project_id}/",
            f"/projects/{self.project_id}/members/",
            f"/projects/{self.project_id}/invitations/",
            f"/tasks/?project_id={self.project_id}&page_size=100",
            f"/tasks/trash/?project_id={self.project_id}&page_size=100",
            *(f"/tasks/{task_id}/" for task_id in self.live_task_ids),
        ]
        http = {}
        for path in paths:
            response = owner.get(path)
            http[path] = (response.status_code, response.get("ETag"), response.content)
        return {"http": http, "rows": self._rows()}

    def _rows(self) -> dict[str, list[dict[str, Any]]]:
        task_ids = list(
            Task.objects.filter(project_id=self.project_id).values_list("pk", flat=True)
        )
        task_ids += [self.ids.trashed, *self.live_task_ids]
        owner_id = self.owner.pk
        return {
            "project": list(Project.objects.filter(pk=self.project_id).values()),
            "members": list(
                Membership.objects.filter(project_id=self.project_id).order_by("pk").values()
            ),
            "invitations": list(
                Invitation.objects.filter(project_id=self.project_id).order_by("pk").values()
            ),
            "tasks": list(Task.objects.filter(pk__in=task_ids).order_by("pk").values()),
            "task labels": list(
                TaskLabel.objects.filter(task_id__in=task_ids).order_by("pk").values()
            ),
            # A refused write records nothing for the changes feed or the webhooks either.
            "changes": list(
                Change.objects.filter(Q(owner_id=owner_id) | Q(object_id__in=task_ids))
                .order_by("pk")
                .values()
            ),
            "counters": list(ChangeCounter.objects.filter(owner_id=owner_id).values()),
            "events": list(Event.objects.filter(owner_id=owner_id).order_by("pk").values()),
        }


def task_in(user: User, *, title: str, **fields: Any) -> Task:
    """A task made by `user` as POST /tasks/ would make it (in their Inbox without a project)."""
    return task_create(user=user, data=TaskCreateIn(data={"title": title, **fields}).validated())


def _joined(project_id: int, owner: User, user: User, role: str) -> None:
    invitation = invitation_create(user=owner, project_id=project_id, email=user.email, role=role)
    invitation_accept(user=user, email=user.email, invitation_id=invitation.pk)


def shared_project() -> SharedProject:
    users = {name: UserFactory() for name in (*SUBJECTS[:-1], "member")}
    owner = users["owner"]
    # The owner hears of every task change by webhook: a refusal must record no event.
    WebhookFactory(owner=owner)
    project_id = project_create(user=owner, data={"name": "Shared"}).pk
    for name, role in (
        ("editor", "editor"),
        ("viewer", "viewer"),
        ("member", "editor"),
        ("removed", "editor"),
    ):
        _joined(project_id, owner, users[name], role)
    task = task_in(owner, title="Task", project_id=project_id, assignee_id=users["removed"].pk)
    sibling = task_in(owner, title="Sibling", project_id=project_id)
    subtask = task_in(owner, title="Subtask", project_id=project_id, parent_id=task.pk)
    trashed = task_in(owner, title="Trashed", project_id=project_id)
    task_trash(user=owner, task_id=trashed.pk)
    # Removed after the tasks exist: they were in the removed member's sight, and are not now.
    member_remove(user=owner, project_id=project_id, user_id=users["removed"].pk)
    invitation_create(
        user=owner, project_id=project_id, email=users["invited"].email, role="editor"
    )
    spare = invitation_create(user=owner, project_id=project_id, email=SPARE_EMAIL, role="viewer")

    # No object has these ids: far beyond the largest, which the case cannot catch up with.
    beyond = 10**6
    project_absent = Project.objects.aggregate(top=Max("pk"))["top"] + beyond
    task_absent = Task.objects.aggregate(top=Max("pk"))["top"] + beyond
    user_absent = User.objects.aggregate(top=Max("pk"))["top"] + beyond
    invitation_absent = Invitation.objects.aggregate(top=Max("pk"))["top"] + beyond
    absent = {
        "project": project_absent,
        "task": task_absent,
        "sibling": task_absent + 1,
        "subtask": task_absent + 2,
        "trashed": task_absent + 3,
        "member": user_absent,
        "user": user_absent + 1,
        "invitation": invitation_absent,
    }
    ids = Ids(
        project=project_id,
        task=task.pk,
        sibling=sibling.pk,
        subtask=subtask.pk,
        trashed=trashed.pk,
        member=users["member"].pk,
        invitation=spare.pk,
        user=users["editor"].pk,
        absent=absent,
    )
    return SharedProject(users=users, project_id=project_id, ids=ids)
