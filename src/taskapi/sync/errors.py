from taskapi.core.errors import DomainError, FieldsInvalid


class SyncTokenInvalid(FieldsInvalid):
    # One answer for garbled, forged and another user's tokens: it reveals nothing.
    field = "sync_token"
    message = "Invalid sync token. Use a sync_token as returned, or none for a full sync."


class SyncTokenExpired(DomainError):
    status = 410
    type = "/problems/sync-token-expired"
    title = "The sync token has expired."
