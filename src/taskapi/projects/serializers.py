"""Request and response shapes of projects, members and invitations. Input serializers check
shape and format only; who may do what is the policy's (policy.py), through the services."""

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from taskapi.core.schema import IdField
from taskapi.core.serializers import (
    InputSerializer,
    PartialInput,
    StrictCharField,
    StrictEmailField,
    StrictIdField,
)
from taskapi.projects.models import GRANTABLE_ROLES, NAME_MAX_LENGTH, Invitation, Membership, Role
from taskapi.projects.services import MAX_MEMBERS_PER_PROJECT, MAX_PROJECTS_PER_USER

COLOR_PATTERN = r"^#[0-9A-Fa-f]{6}$"
EMAIL_MAX_LENGTH = 254
GRANTABLE = [role.value for role in GRANTABLE_ROLES]
# Every role, as the output fields list them (the schema's enum names: settings'
# ENUM_NAME_OVERRIDES).
ROLES = Role.values


# Copied from labels (serializers.ColorField) rather than imported: projects sits beside labels,
# over core and accounts only (STYLE.md, "Layout").
@extend_schema_field({"type": "string", "pattern": COLOR_PATTERN})
class ColorField(StrictCharField):
    """`#rrggbb` in either case (stored in lower case by the services), exactly as the
    contract's pattern says: not trimmed, and with no trailing newline, which Python's `$` would
    let through where JSON Schema's does not."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trim_whitespace=False, **kwargs)
        self.validators.append(
            RegexValidator(COLOR_PATTERN.replace("$", r"\Z"), "Use #rrggbb (hexadecimal).")
        )


class GrantableRoleField(serializers.ChoiceField):
    """`editor` or `viewer`: ownership moves only by a hand-over (projectTransfer)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=GRANTABLE, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):  # ChoiceField would match str(data): 1 is not "1"
            self.fail("invalid_choice", input=data)
        return str(super().to_internal_value(data))


class ProjectCreateIn(InputSerializer):
    """POST: `name` required; `color` optional. Unknown and read-only fields are dropped."""

    name = StrictCharField(max_length=NAME_MAX_LENGTH)  # trimmed, then must be non-empty
    color = ColorField(allow_null=True, default=None)


class ProjectPatchIn(PartialInput, ProjectCreateIn):
    """PATCH: only the fields sent; no defaults are applied."""


class ProjectTransferIn(InputSerializer):
    user_id = StrictIdField()


class MemberPatchIn(InputSerializer):
    """PATCH of a member: its one field, the role to give, is required (the contract's
    MemberPatch). Never partial: drf-spectacular makes every PATCH body's serializer partial
    when it describes it (AutoSchema._get_request_for_media_type), and so would drop
    `required`; the view builds it non-partial, and this keeps the schema saying so."""

    role = GrantableRoleField()

    @property
    def partial(self) -> bool:
        return False

    @partial.setter
    def partial(self, value: bool) -> None:
        pass


class InvitationCreateIn(InputSerializer):
    # Trimmed by the field and lower-cased by the service (as accounts store emails).
    email = StrictEmailField(max_length=EMAIL_MAX_LENGTH)
    role = GrantableRoleField()


def _timestamp(value: Any) -> str:
    return serializers.DateTimeField().to_representation(value)


class ProjectOut(serializers.Serializer[Any]):
    """A project as one member sees it: `role` is theirs (selectors and services set it)."""

    id = IdField(read_only=True)
    name = serializers.CharField(min_length=1, max_length=NAME_MAX_LENGTH)
    color = serializers.RegexField(COLOR_PATTERN.replace("A-Fa-f", "a-f"), allow_null=True)
    inbox = serializers.BooleanField(read_only=True)
    owner_id = IdField(read_only=True)
    role = serializers.ChoiceField(choices=ROLES)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {
            "id": instance.id,
            "name": instance.name,
            "color": instance.color,
            "inbox": instance.inbox,
            "owner_id": instance.owner_id,
            "role": instance.role,
            "created_at": _timestamp(instance.created_at),
            "updated_at": _timestamp(instance.updated_at),
        }


class ProjectListOut(serializers.Serializer[Any]):
    results = serializers.ListField(child=ProjectOut(), max_length=MAX_PROJECTS_PER_USER)


class MemberOut(serializers.Serializer[Any]):
    user_id = IdField()
    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)
    role = serializers.ChoiceField(choices=ROLES)
    joined_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: Membership) -> dict[str, Any]:
        return {
            "user_id": instance.user_id,
            "email": instance.user.email,
            "role": instance.role,
            "joined_at": _timestamp(instance.joined_at),
        }


class MemberListOut(serializers.Serializer[Any]):
    results = serializers.ListField(child=MemberOut(), max_length=MAX_MEMBERS_PER_PROJECT)


class InvitationOut(serializers.Serializer[Any]):
    id = IdField(read_only=True)
    project_id = IdField()
    project_name = serializers.CharField(min_length=1, max_length=NAME_MAX_LENGTH)
    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)
    role = GrantableRoleField()
    invited_by = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)
    created_at = serializers.DateTimeField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: Invitation) -> dict[str, Any]:
        return {
            "id": instance.id,
            "project_id": instance.project_id,
            "project_name": instance.project.name,
            "email": instance.email,
            "role": instance.role,
            "invited_by": instance.invited_by.email,
            "created_at": _timestamp(instance.created_at),
            "expires_at": _timestamp(instance.expires_at),
        }


class InvitationListOut(serializers.Serializer[Any]):
    results = serializers.ListField(child=InvitationOut())
