from taskapi.core.errors import Conflict, NotFound, field_error


class ProjectNotFound(NotFound):
    # One body for "missing" and "not a member": a difference would confirm the id exists.
    title = "Project not found."
    detail = "No project with this id exists."


class MemberNotFound(NotFound):
    title = "Member not found."
    detail = "No member with this user id is in this project."


class InvitationNotFound(NotFound):
    title = "Invitation not found."
    detail = "No pending invitation with this id is addressed to you."


class ProjectConflict(Conflict):
    """A 409 about the state of a project: one title for all (the contract's), the reason in
    the detail."""

    title = "The request conflicts with the state of the project."


class InboxNotShareable(ProjectConflict):
    detail = "The Inbox cannot be shared, handed over or deleted."


class OwnerMustHandOver(ProjectConflict):
    detail = "Hand the project over to another member before leaving it."


class OwnerRoleFixed(ProjectConflict):
    detail = "Hand the project over (POST /projects/{id}/transfer/) to change who owns it."


class AlreadyMember(ProjectConflict):
    detail = "A member of this project already has this email."


class AlreadyInvited(ProjectConflict):
    detail = "A pending invitation to this project already has this email."


class LimitReached(ProjectConflict):
    """A limit of projects.services refuses the request: a 409 whose `errors` holds one error
    with field null and code `limit` (openapi.yaml, "Limits"), not the 400 of labels' limit."""

    def __init__(self, message: str) -> None:
        super().__init__(message, errors=[field_error(None, "limit", message)])
