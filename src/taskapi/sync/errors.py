from taskapi.core.errors import DomainError


class SyncTokenExpired(DomainError):
    status = 410
    type = "/problems/sync-token-expired"
    title = "The sync token has expired."
