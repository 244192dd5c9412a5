"""drf-spectacular annotations of the project, member and invitation views (see core/schema.py)."""

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import F, OpenApiParameter, extend_schema

from taskapi.core.errors import Conflict
from taskapi.core.schema import (
    FIELD_ERROR,
    NO_BODY,
    PERMISSION_DENIED,
    REQUEST_ID,
    json_response,
    problem_responses,
    problem_schema,
)
from taskapi.projects.serializers import (
    InvitationCreateIn,
    InvitationListOut,
    InvitationOut,
    MemberListOut,
    MemberOut,
    MemberPatchIn,
    ProjectCreateIn,
    ProjectListOut,
    ProjectOut,
    ProjectPatchIn,
    ProjectTransferIn,
)

_ID = {"type": "integer", "format": "int64", "minimum": 1}
PROJECT_ID = OpenApiParameter("project_id", _ID, OpenApiParameter.PATH)
MEMBER_USER_ID = OpenApiParameter("user_id", _ID, OpenApiParameter.PATH)
INVITATION_ID = OpenApiParameter("invitation_id", _ID, OpenApiParameter.PATH)

# The project's rules (the Inbox, the owner, already a member or invited) or a limit, whose
# `errors` holds one error with field null and code `limit` (errors.LimitReached).
PROJECT_CONFLICT = problem_schema(
    409, Conflict.type, extra={"errors": {"type": "array", "items": FIELD_ERROR}}
)


def _problems(*statuses: int) -> dict[Any, Any]:
    return problem_responses(*statuses, status_403=PERMISSION_DENIED, status_409=PROJECT_CONFLICT)


def _operation(
    operation_id: str, tag: str, parameters: list[OpenApiParameter], **kwargs: Any
) -> Callable[[F], F]:
    return extend_schema(
        operation_id=operation_id, tags=[tag], parameters=[*parameters, REQUEST_ID], **kwargs
    )


def _project_operation(
    operation_id: str, parameters: list[OpenApiParameter], **kwargs: Any
) -> Callable[[F], F]:
    return _operation(operation_id, "projects", parameters, **kwargs)


def _invitation_operation(
    operation_id: str, parameters: list[OpenApiParameter], **kwargs: Any
) -> Callable[[F], F]:
    return _operation(operation_id, "invitations", parameters, **kwargs)


project_list = _project_operation(
    "projectList", [], responses={**json_response(ProjectListOut), **_problems(401, 503)}
)

project_create = _project_operation(
    "projectCreate",
    [],
    request=ProjectCreateIn,
    responses={**json_response(ProjectOut, 201), **_problems(400, 401, 409, 413, 415, 503)},
)

project_get = _project_operation(
    "projectGet",
    [PROJECT_ID],
    responses={**json_response(ProjectOut), **_problems(401, 404, 503)},
)

project_update = _project_operation(
    "projectUpdate",
    [PROJECT_ID],
    request=ProjectPatchIn,
    responses={**json_response(ProjectOut), **_problems(400, 401, 403, 404, 413, 415, 503)},
)

project_delete = _project_operation(
    "projectDelete",
    [PROJECT_ID],
    responses={204: NO_BODY, **_problems(401, 403, 404, 409, 503)},
)

project_leave = _project_operation(
    "projectLeave",
    [PROJECT_ID],
    request=None,
    responses={204: NO_BODY, **_problems(401, 404, 409, 503)},
)

project_transfer = _project_operation(
    "projectTransfer",
    [PROJECT_ID],
    request=ProjectTransferIn,
    responses={
        **json_response(ProjectOut),
        **_problems(400, 401, 403, 404, 409, 413, 415, 503),
    },
)

member_list = _project_operation(
    "memberList",
    [PROJECT_ID],
    responses={**json_response(MemberListOut), **_problems(401, 404, 503)},
)

member_update = _project_operation(
    "memberUpdate",
    [PROJECT_ID, MEMBER_USER_ID],
    request=MemberPatchIn,
    responses={
        **json_response(MemberOut),
        **_problems(400, 401, 403, 404, 409, 413, 415, 503),
    },
)

member_remove = _project_operation(
    "memberRemove",
    [PROJECT_ID, MEMBER_USER_ID],
    responses={204: NO_BODY, **_problems(401, 403, 404, 409, 503)},
)

invitation_list = _invitation_operation(
    "invitationList",
    [PROJECT_ID],
    responses={**json_response(InvitationListOut), **_problems(401, 403, 404, 503)},
)

invitation_create = _invitation_operation(
    "invitationCreate",
    [PROJECT_ID],
    request=InvitationCreateIn,
    responses={
        **json_response(InvitationOut, 201),
        **_problems(400, 401, 403, 404, 409, 413, 415, 503),
    },
)

invitation_revoke = _invitation_operation(
    "invitationRevoke",
    [PROJECT_ID, INVITATION_ID],
    responses={204: NO_BODY, **_problems(401, 403, 404, 503)},
)

my_invitation_list = _invitation_operation(
    "myInvitationList",
    [],
    responses={**json_response(InvitationListOut), **_problems(401, 503)},
)

invitation_accept = _invitation_operation(
    "invitationAccept",
    [INVITATION_ID],
    request=None,
    responses={**json_response(ProjectOut), **_problems(401, 404, 409, 503)},
)

invitation_decline = _invitation_operation(
    "invitationDecline",
    [INVITATION_ID],
    request=None,
    responses={204: NO_BODY, **_problems(401, 404, 503)},
)
