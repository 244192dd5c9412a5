from taskapi.core.errors import Conflict, DomainError, NotFound


class TaskNotFound(NotFound):
    # One body for "missing" and "someone else's": a difference would confirm the id exists.
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


class TaskFieldInvalid(DomainError):
    """A field a service refuses, given the task it would change: the same problem as a
    serializer's validation error."""

    status = 400
    type = "/problems/validation-error"
    title = "Request is invalid."

    def __init__(self, *, field: str, code: str, message: str) -> None:
        super().__init__(
            "1 field failed validation.",
            errors=[{"field": field, "code": code, "message": message}],
        )
