"""Reads of projects, scoped to the user: a project they are not a member of does not exist."""

from django.db import connection
from django.db.models import F, QuerySet
from django.utils import timezone

from taskapi.accounts.models import normalize_email
from taskapi.core.scoping import HasId, id_check, scoped_get
from taskapi.projects import policy
from taskapi.projects.errors import ProjectNotFound
from taskapi.projects.models import Invitation, Membership, Project


def project_list(*, user: HasId) -> QuerySet[Project]:
    """The user's projects, each with the user's `role` in it."""
    return (
        Project.objects.filter(memberships__user_id=user.id)
        .annotate(role=F("memberships__role"))
        .order_by("pk")
    )


def project_get(*, user: HasId, project_id: int) -> Project:
    return scoped_get(project_list(user=user), object_id=project_id, not_found=ProjectNotFound)


def inbox_id(*, user: HasId) -> int:
    """The id of the user's Inbox (every user has one: inbox.py)."""
    return Project.objects.filter(owner_id=user.id, inbox=True).values_list("pk", flat=True).get()


def member_list(*, project_id: int) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(project_id=project_id)
        .select_related("user")
        .order_by("joined_at", "user_id")
    )


def member_ids(*, project_id: int) -> list[int]:
    """The project's members' user ids, ascending (the order their locks are taken in)."""
    return list(
        Membership.objects.filter(project_id=project_id)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


# PostgreSQL: a KEY SHARE lock on the project's row until the transaction ends.
_PROJECT_KEY_SHARE = "SELECT 1 FROM projects_project WHERE id = %s FOR KEY SHARE"


def readers_locked(*, project_id: int) -> list[int]:
    """The members who read a write to the project's tasks, ascending, with the project's row
    held (FOR KEY SHARE) until the transaction ends.

    Membership changes lock the row FOR UPDATE (services._require), so a task write and a
    membership change of one project take turns: a write never records for a member list that
    a join or a departure changes before it commits (the joiner would miss the write; the one
    who left would be told of it). Task writes among themselves do not wait on this lock.

    Two statements, not one with `FOR KEY SHARE OF p` joined to the members: under READ
    COMMITTED a statement that waits for the lock still reads the other rows of its join as
    they were when it began, so it would return the member list from before a join it waited
    for. The second statement starts after the wait and sees it. On SQLite write transactions
    are serialized anyway, and only the members are read.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_PROJECT_KEY_SHARE, [project_id])
    return member_ids(project_id=project_id)


def is_member(*, user_id: int, project_id: int) -> bool:
    return Membership.objects.filter(user_id=user_id, project_id=project_id).exists()


def _pending() -> QuerySet[Invitation]:
    """Invitations not yet expired, with what their answer shows (project name, inviter)."""
    return (
        Invitation.objects.filter(expires_at__gt=timezone.now())
        .select_related("project", "invited_by")
        .order_by("pk")
    )


def invitation_list(*, project_id: int) -> QuerySet[Invitation]:
    return _pending().filter(project_id=project_id)


def project_member_list(*, user: HasId, project_id: int) -> QuerySet[Membership]:
    """The members of a project where the user holds project:read (else its 404 or a 403)."""
    _project_require(user=user, project_id=project_id, permission=policy.PROJECT_READ)
    return member_list(project_id=project_id)


def project_invitation_list(*, user: HasId, project_id: int) -> QuerySet[Invitation]:
    """The pending invitations of a project where the user holds invitation:manage."""
    _project_require(user=user, project_id=project_id, permission=policy.INVITATION_MANAGE)
    return invitation_list(project_id=project_id)


def my_invitation_list(*, email: str) -> QuerySet[Invitation]:
    """The pending invitations addressed to this email (the caller's own, read from their
    account: an invitation names an email, not a user)."""
    return _pending().filter(email=normalize_email(email))


def _project_require(*, user: HasId, project_id: int, permission: str) -> None:
    id_check(project_id, not_found=ProjectNotFound)  # before the query: SQLite's int64
    policy.require(
        user=user, project_id=project_id, permission=permission, not_found=ProjectNotFound
    )
