"""Reads of projects, scoped to the user: a project they are not a member of does not exist."""

from django.db.models import F, QuerySet
from django.utils import timezone

from taskapi.accounts.models import normalize_email
from taskapi.core.scoping import HasId, id_check, scoped_get
from taskapi.projects import policy
from taskapi.projects.errors import ProjectNotFound
from taskapi.projects.locks import membership_lock_shared
from taskapi.projects.models import Invitation, Membership, Project


def project_list(*, user: HasId) -> QuerySet[Project]:
    """The user's projects, each with the user's `role` in it."""
    return (
        Project.objects.filter(memberships__user_id=user.id)
        .annotate(role=F("memberships__role"))
        .order_by("pk")
    )


def project_get(*, user: HasId, project_id: int, permission: str = policy.PROJECT_READ) -> Project:
    """The project if the user holds `permission` there: a non-member gets the 404 of a missing
    id, a member without it the 403 (asked before a body is read: policy.before_other_refusals)."""
    project = scoped_get(project_list(user=user), object_id=project_id, not_found=ProjectNotFound)
    role = project.role  # type: ignore[attr-defined]  # project_list's annotation
    policy.require_role(role=role, permission=permission, not_found=ProjectNotFound)
    return project


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


def readers_locked(*, project_id: int) -> list[int]:
    """The members who read a write to the project's tasks, ascending, read after taking the
    project's membership lock shared (locks.py): a membership change committed before it is
    seen, and none commits until the write does.

    The lock is a statement of its own, before the members are read: under READ COMMITTED a
    statement that waits reads the rest of its query as it was when it began, so a lock and the
    members in one statement returned the list from before a join it waited for
    (tests/stack/test_sharing_races.py).
    """
    membership_lock_shared(project_id=project_id)
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
