"""Projects, who is in them, and who is invited: the data the policy (policy.py) reads.

Every task belongs to one project; every user has one Inbox, which is never shared. A user's
access to a project is exactly their Membership row: no row, no access (a 404, as for a missing
id); the row's role decides what they may do there (policy.PERMISSIONS).
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThan
from django.utils import timezone

NAME_MAX_LENGTH = 120
INBOX_NAME = "Inbox"


class Role(models.TextChoices):
    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"


# The roles an invitation or a role change may give: ownership only moves by a hand-over.
GRANTABLE_ROLES = (Role.EDITOR, Role.VIEWER)


class Project(models.Model):
    # Who owns it now; its Membership row says the same (role owner), and services keep the two
    # in step. Deleting the owner's account deletes the projects it owns.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_projects"
    )
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    # "#rrggbb" in lower case, or null for none (as a label's colour).
    color = models.CharField(max_length=7, null=True, blank=True)  # noqa: DJ001
    inbox = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner"], condition=models.Q(inbox=True), name="project_one_inbox"
            ),
            models.CheckConstraint(
                condition=GreaterThan(Length("name"), 0), name="project_name_not_empty"
            ),
            models.CheckConstraint(
                condition=models.Q(color__isnull=True) | models.Q(color__regex=r"^#[0-9a-f]{6}\Z"),
                name="project_color_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"project {self.pk}: {self.name}"


class Membership(models.Model):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        db_index=False,
    )
    role = models.CharField(max_length=6, choices=Role.choices)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Also the index of "the members of a project" (project first).
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
            # Exactly one owner row per project: at most one here, at least one by the services.
            models.UniqueConstraint(
                fields=["project"],
                condition=models.Q(role="owner"),
                name="membership_one_owner",
            ),
        ]
        indexes = [
            # Every scoped read: "the projects of this user" (and the role in each).
            models.Index(fields=["user", "project", "role"], name="membership_user_idx"),
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} is {self.role} of project {self.project_id}"


class Invitation(models.Model):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="invitations", db_index=False
    )
    # Normalized as accounts store emails (trimmed, lower case); no user is looked up when
    # inviting, so the answer cannot tell whether an account has this email.
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=6, choices=Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "email"], name="invitation_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=["editor", "viewer"]),
                name="invitation_role_grantable",
            ),
        ]
        indexes = [
            models.Index(fields=["email", "expires_at"], name="invitation_email_idx"),
        ]

    def __str__(self) -> str:
        return f"invitation {self.pk} of {self.email} to project {self.project_id}"
