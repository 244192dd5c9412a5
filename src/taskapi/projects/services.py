"""Writes of projects, members and invitations. Each asks the policy (policy.py) first; a change
of who can see a project tells the apps with objects in it (signals.py) in the same transaction.
"""

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from taskapi.accounts.models import normalize_email
from taskapi.core.errors import Conflict, FieldsInvalid
from taskapi.core.scoping import MAX_ID, HasId
from taskapi.projects import policy
from taskapi.projects.errors import (
    AlreadyInvited,
    AlreadyMember,
    InboxNotShareable,
    InvitationNotFound,
    LimitReached,
    MemberNotFound,
    OwnerMustHandOver,
    OwnerRoleFixed,
    ProjectNotFound,
)
from taskapi.projects.locks import membership_lock
from taskapi.projects.models import Invitation, Membership, Project, Role
from taskapi.projects.signals import member_joined, member_leaving, project_deleting

# Limits: a project's member list and a user's project list are answered whole, so both are
# bounded; so is what one owner can send out before anyone answers.
MAX_MEMBERS_PER_PROJECT = 50
MAX_PROJECTS_PER_USER = 100
MAX_PENDING_INVITATIONS_PER_PROJECT = 50
INVITATION_TTL = timedelta(days=14)


def _require(*, user: HasId, project_id: int, permission: str) -> Project:
    """The project, locked for this transaction, if the user holds `permission` there (a
    non-member's 404, a member's 403).

    Locked twice over: the membership lock (locks.py), which task writes share, so no write
    records its change for a member list that changes before it commits; and the project's row
    FOR UPDATE, which the writes that place tasks (create, move, trash, restore) lock too. The
    policy is asked before, so that no one takes a lock on a project they cannot see, and again
    after, for the role as a change that committed meanwhile left it.
    """
    if not 1 <= project_id <= MAX_ID:
        raise ProjectNotFound()
    policy.require(
        user=user, project_id=project_id, permission=permission, not_found=ProjectNotFound
    )
    project = _lock(project_id=project_id)
    policy.require(
        user=user, project_id=project_id, permission=permission, not_found=ProjectNotFound
    )
    return project


def _lock(*, project_id: int) -> Project:
    """The project's membership lock and its row FOR UPDATE (see _require), in that order."""
    membership_lock(project_id=project_id)
    project = Project.objects.select_for_update().filter(pk=project_id).first()
    if project is None:
        raise ProjectNotFound()
    return project


def _projects_limit(*, user_id: int) -> None:
    if Membership.objects.filter(user_id=user_id).count() >= MAX_PROJECTS_PER_USER:
        raise LimitReached(
            f"You are in the most projects allowed ({MAX_PROJECTS_PER_USER}). Leave one first."
        )


def _normalised(data: dict[str, Any]) -> dict[str, Any]:
    """Colours are stored in lower case (a check constraint): the API takes either case."""
    values = dict(data)
    if values.get("color") is not None:
        values["color"] = values["color"].lower()
    return values


@transaction.atomic
def project_create(*, user: HasId, data: dict[str, Any]) -> Project:
    _projects_limit(user_id=user.id)
    now = timezone.now()
    project = Project.objects.create(
        owner_id=user.id, created_at=now, updated_at=now, **_normalised(data)
    )
    Membership.objects.create(project=project, user_id=user.id, role=Role.OWNER, joined_at=now)
    project.role = Role.OWNER.value  # type: ignore[attr-defined]
    return project


@transaction.atomic
def project_update(*, user: HasId, project_id: int, changes: dict[str, Any]) -> Project:
    project = _require(user=user, project_id=project_id, permission=policy.PROJECT_UPDATE)
    if changes:
        for field, value in _normalised(changes).items():
            setattr(project, field, value)
        project.updated_at = timezone.now()
        project.save(update_fields=[*changes, "updated_at"])
    project.role = Role.OWNER.value  # type: ignore[attr-defined]
    return project


@transaction.atomic
def project_delete(*, user: HasId, project_id: int) -> None:
    """Erase the project and its tasks for good; every member's feed lists them as deleted."""
    project = _require(user=user, project_id=project_id, permission=policy.PROJECT_DELETE)
    if project.inbox:
        raise InboxNotShareable()
    _project_erase(project=project)


def _project_erase(*, project: Project) -> None:
    project_deleting.send(sender=Project, project_id=project.pk)
    project.delete()


def _member_remove(*, project_id: int, user_id: int) -> None:
    member_leaving.send(sender=Project, project_id=project_id, user_id=user_id)
    Membership.objects.filter(project_id=project_id, user_id=user_id).delete()


@transaction.atomic
def project_leave(*, user: HasId, project_id: int) -> None:
    project = _require(user=user, project_id=project_id, permission=policy.PROJECT_LEAVE)
    if project.owner_id == user.id:
        raise OwnerMustHandOver()
    _member_remove(project_id=project_id, user_id=user.id)


def _member_get(*, project_id: int, user_id: int) -> Membership:
    if not 1 <= user_id <= MAX_ID:
        raise MemberNotFound()
    member = Membership.objects.filter(project_id=project_id, user_id=user_id).first()
    if member is None:
        raise MemberNotFound()
    return member


@transaction.atomic
def member_update(*, user: HasId, project_id: int, user_id: int, role: str) -> Membership:
    _require(user=user, project_id=project_id, permission=policy.MEMBER_MANAGE)
    member = _member_get(project_id=project_id, user_id=user_id)
    if member.role == Role.OWNER:
        raise OwnerRoleFixed()
    if member.role != role:
        member.role = role
        member.save(update_fields=["role"])
    return member


@transaction.atomic
def member_remove(*, user: HasId, project_id: int, user_id: int) -> None:
    _require(user=user, project_id=project_id, permission=policy.MEMBER_MANAGE)
    member = _member_get(project_id=project_id, user_id=user_id)
    if member.role == Role.OWNER:
        raise OwnerRoleFixed()
    _member_remove(project_id=project_id, user_id=user_id)


@transaction.atomic
def project_transfer(*, user: HasId, project_id: int, user_id: int) -> Project:
    """Hand the project over to another member; the old owner stays, as an editor."""
    project = _require(user=user, project_id=project_id, permission=policy.MEMBER_MANAGE)
    if project.inbox:
        raise InboxNotShareable()
    if not 1 <= user_id <= MAX_ID or user_id == user.id:
        raise FieldsInvalid(
            "Name another member of the project.", field="user_id", code="does_not_exist"
        )
    heir = Membership.objects.filter(project_id=project_id, user_id=user_id).first()
    if heir is None:
        raise FieldsInvalid(
            "Name another member of the project.", field="user_id", code="does_not_exist"
        )
    # The old owner's row first: one owner row per project at every moment (a unique index).
    Membership.objects.filter(project_id=project_id, user_id=user.id).update(role=Role.EDITOR)
    Membership.objects.filter(pk=heir.pk).update(role=Role.OWNER)
    project.owner_id = user_id
    project.updated_at = timezone.now()
    project.save(update_fields=["owner", "updated_at"])
    project.role = Role.EDITOR.value  # type: ignore[attr-defined]
    return project


@transaction.atomic
def invitation_create(*, user: HasId, project_id: int, email: str, role: str) -> Invitation:
    """An invitation to whoever has (or will have) this email. No account is looked up: the
    answer is the same whether one exists or not."""
    project = _require(user=user, project_id=project_id, permission=policy.INVITATION_MANAGE)
    if project.inbox:
        raise InboxNotShareable()
    email = normalize_email(email)
    if Membership.objects.filter(project_id=project_id, user__email=email).exists():
        raise AlreadyMember()
    now = timezone.now()
    pending = Invitation.objects.filter(project_id=project_id)
    pending.filter(expires_at__lte=now).delete()  # expired ones hold no place
    if pending.filter(email=email).exists():
        raise AlreadyInvited()
    if pending.count() >= MAX_PENDING_INVITATIONS_PER_PROJECT:
        raise LimitReached(
            f"This project has the most pending invitations allowed "
            f"({MAX_PENDING_INVITATIONS_PER_PROJECT}). Revoke one first."
        )
    return Invitation.objects.create(
        project_id=project_id,
        email=email,
        role=role,
        invited_by_id=user.id,
        created_at=now,
        expires_at=now + INVITATION_TTL,
    )


@transaction.atomic
def invitation_revoke(*, user: HasId, project_id: int, invitation_id: int) -> None:
    _require(user=user, project_id=project_id, permission=policy.INVITATION_MANAGE)
    if not 1 <= invitation_id <= MAX_ID:
        raise InvitationNotFound()
    deleted, _ = Invitation.objects.filter(pk=invitation_id, project_id=project_id).delete()
    if not deleted:
        raise InvitationNotFound()


def _invitation_for(*, user: HasId, email: str, invitation_id: int) -> Invitation:
    """A pending invitation addressed to the user's email, locked; anything else is a 404."""
    if not 1 <= invitation_id <= MAX_ID:
        raise InvitationNotFound()
    invitation = (
        Invitation.objects.select_for_update()
        .filter(pk=invitation_id, email=normalize_email(email), expires_at__gt=timezone.now())
        .first()
    )
    if invitation is None:
        raise InvitationNotFound()
    return invitation


@transaction.atomic
def invitation_accept(*, user: HasId, email: str, invitation_id: int) -> Project:
    invitation = _invitation_for(user=user, email=email, invitation_id=invitation_id)
    project_id = invitation.project_id
    # The project's locks (as _require takes them): the join takes turns with the project's
    # other membership changes and with its task writes.
    project = _lock(project_id=project_id)
    if Membership.objects.filter(project_id=project_id, user_id=user.id).exists():
        invitation.delete()
        raise AlreadyMember()
    _projects_limit(user_id=user.id)
    if Membership.objects.filter(project_id=project_id).count() >= MAX_MEMBERS_PER_PROJECT:
        raise LimitReached(
            f"This project has the most members allowed ({MAX_MEMBERS_PER_PROJECT})."
        )
    try:
        with transaction.atomic():
            Membership.objects.create(project_id=project_id, user_id=user.id, role=invitation.role)
    except IntegrityError:
        raise Conflict() from None
    invitation.delete()
    member_joined.send(sender=Project, project_id=project_id, user_id=user.id)
    project.role = invitation.role  # type: ignore[attr-defined]
    return project


@transaction.atomic
def invitation_decline(*, user: HasId, email: str, invitation_id: int) -> None:
    _invitation_for(user=user, email=email, invitation_id=invitation_id).delete()


def memberships_end(*, user_id: int) -> None:
    """An account is going: the projects it owns are erased (their members lose them), and it
    leaves the others. Inside the deletion's transaction, before its rows go."""
    owned = Project.objects.filter(owner_id=user_id).values_list("pk", flat=True)
    for project_id in sorted(owned):
        _project_erase(project=_lock(project_id=project_id))
    others = Membership.objects.filter(user_id=user_id).values_list("project_id", flat=True)
    for project_id in sorted(others):
        _lock(project_id=project_id)
        _member_remove(project_id=project_id, user_id=user_id)
