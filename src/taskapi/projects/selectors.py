"""Reads of projects, scoped to the user: a project they are not a member of does not exist."""

from django.db.models import F, QuerySet

from taskapi.core.scoping import HasId, scoped_get
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


def is_member(*, user_id: int, project_id: int) -> bool:
    return Membership.objects.filter(user_id=user_id, project_id=project_id).exists()


def invitation_list(*, project_id: int) -> QuerySet[Invitation]:
    from django.utils import timezone

    return Invitation.objects.filter(project_id=project_id, expires_at__gt=timezone.now()).order_by(
        "pk"
    )
