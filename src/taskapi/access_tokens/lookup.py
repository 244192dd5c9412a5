"""A token's row as a request needs it, from the cache: no database read per request.

`pat:<key id>` holds the entry, or GONE for a token that was revoked (or never was). Writers
(delete, password change, account deletion) set GONE after their transaction commits; readers
fill a missing key with cache.add, which never overwrites, so a reader holding a row read
before the commit cannot put a revoked token back. With Redis (REDIS_URL) every instance reads
the same key; each also keeps what it read for LOCAL_SECONDS, so a revocation holds on the
instance that made it at once and on every other within half a second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from taskapi.access_tokens.models import PersonalAccessToken

logger = logging.getLogger(__name__)

GONE = "gone"
# A miss costs one indexed read; this bounds how long an entry could outlive a revocation whose
# publishing failed (a cache outage while it committed).
TIMEOUT = 300


@dataclass(frozen=True)
class TokenEntry:
    token_id: int
    user_id: int
    secret_hash: str
    scopes: frozenset[str]
    expires_at: float  # a Unix time


# Each process also keeps the entries it read for this long, so that a busy token costs no
# cache round trip either: a revocation published by another instance holds here at most this
# much later (within the second the contract promises); this process's own hold at once.
LOCAL_SECONDS = 0.5
LOCAL_MAX = 10_000  # entries; past it the process starts again from an empty table
_local: dict[str, tuple[float, TokenEntry]] = {}


def _key(key_id: str) -> str:
    return f"pat:{key_id}"


def _read(key_id: str) -> TokenEntry | None:
    row = (
        PersonalAccessToken.objects.filter(key_id=key_id, user_version=F("user__token_version"))
        .values_list("pk", "user_id", "secret_hash", "scopes", "expires_at")
        .first()
    )
    if row is None:
        return None
    token_id, user_id, secret_hash, scopes, expires_at = row
    return TokenEntry(token_id, user_id, secret_hash, frozenset(scopes), expires_at.timestamp())


def token_entry_get(*, key_id: str) -> TokenEntry | None:
    """The live token with this key id, or None (revoked, deleted, its user's password changed,
    or never issued)."""
    now = time.monotonic()
    kept = _local.get(key_id)
    if kept is not None and kept[0] > now:
        return kept[1]
    entry = _shared_entry(key_id)
    if entry is not None:
        if len(_local) >= LOCAL_MAX:
            _local.clear()
        _local[key_id] = (now + LOCAL_SECONDS, entry)
    return entry


def _shared_entry(key_id: str) -> TokenEntry | None:
    try:
        cached = cache.get(_key(key_id))
    except Exception:  # a cache outage must not turn into 500s: fall back to the database
        logger.warning("access token cache unavailable", exc_info=True)
        return _read(key_id)
    if cached == GONE:
        return None
    if isinstance(cached, TokenEntry):
        return cached
    entry = _read(key_id)
    try:
        cache.add(_key(key_id), GONE if entry is None else entry, TIMEOUT)
    except Exception:
        logger.warning("access token cache unavailable", exc_info=True)
    return entry


def tokens_forget(*, key_ids: Iterable[str]) -> None:
    """Publish that these tokens are gone, once the transaction that removed them commits."""
    forgotten = list(key_ids)
    keys = [_key(key_id) for key_id in forgotten]
    if not keys:
        return

    def publish() -> None:
        for key_id in forgotten:
            _local.pop(key_id, None)
        try:
            cache.set_many(dict.fromkeys(keys, GONE), TIMEOUT)
        except Exception:
            # The rows are gone and the database says so; a cached entry lives at most TIMEOUT.
            logger.warning("access token cache unavailable; not published", exc_info=True)

    transaction.on_commit(publish)
