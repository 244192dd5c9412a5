from taskapi.core.errors import Conflict, DomainError, FieldsInvalid, NotFound


class TaskNotFound(NotFound):
    # One body for "missing" and "in a project you are not a member of": a difference would
    # confirm the id exists.
    title = "Task not found."
    detail = "No task with this id exists."


class TaskWriteConflict(Conflict):
    title = "The task kept changing while it was being written."
    detail = "Other requests changed this task at the same time. Read it again and retry."


class IdempotencyKeyInFlight(Conflict):
    detail = "A request with this Idempotency-Key is still in progress. Retry shortly."


class IdempotencyKeyReused(DomainError):
    status = 422
    type = "/problems/idempotency-key-reused"
    title = "Idempotency-Key reused with a different request."
    detail = "This Idempotency-Key was used with a different request body. Use a new key."


class ProjectUnknown(FieldsInvalid):
    # One message for "missing" and "not a member": the answer must not depend on which.
    field = "project_id"
    code = "does_not_exist"
    message = "No project with this id exists."


class AssigneeUnknown(FieldsInvalid):
    # One message for "no such user" and "not a member of this project".
    field = "assignee_id"
    code = "does_not_exist"
    message = "The assignee must be a member of the task's project."
