"""Sync tokens: a position in a user's change log, signed, bound to the user, dated.

Django's TimestampSigner does the work (HMAC-SHA256 with SECRET_KEY, and SECRET_KEY_FALLBACKS
while a key is rotated). The user's id is in the salt, not in the token: another user's token
fails the signature exactly like a garbled one, and the token says nothing about whose it is.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing

from taskapi.sync.errors import SyncTokenExpired, SyncTokenInvalid

_SALT = "taskapi.sync.token"


@dataclass(frozen=True)
class FeedPosition:
    """The last change a client applied: everything up to (seq, object_id) is in its copy."""

    seq: int
    object_id: int


START = FeedPosition(seq=0, object_id=0)


def _signer(owner_id: int) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"{_SALT}.{owner_id}")


def sync_token_issue(*, owner_id: int, position: FeedPosition) -> str:
    return _signer(owner_id).sign_object([position.seq, position.object_id])


def sync_token_read(*, owner_id: int, token: str) -> FeedPosition:
    """The position a token holds. SyncTokenInvalid unless this server issued it to this user;
    SyncTokenExpired when it is older than SYNC_TOKEN_MAX_AGE (checked after the signature)."""
    max_age = settings.SYNC_TOKEN_MAX_AGE
    try:
        value = _signer(owner_id).unsign_object(token, max_age=max_age)
    except signing.SignatureExpired:
        days = max_age.days
        raise SyncTokenExpired(
            f"This sync token is older than {days} days. Sync from scratch, without a token."
        ) from None
    except (signing.BadSignature, ValueError, UnicodeError):
        raise SyncTokenInvalid() from None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(type(part) is int and part >= 0 for part in value)
    ):
        raise SyncTokenInvalid()
    return FeedPosition(seq=value[0], object_id=value[1])
