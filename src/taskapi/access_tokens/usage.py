"""`last_used_at`, written at most once a minute per token, so a busy token does not turn
every read into a write.

Each process remembers when it last wrote a token's time; past a minute it asks the cache
(cache.add of a key that lives a minute), so that of many instances only one writes.
"""

import logging
import time

from django.core.cache import cache
from django.utils import timezone

from taskapi.access_tokens.models import PersonalAccessToken

logger = logging.getLogger(__name__)

INTERVAL = 60  # seconds
_written: dict[int, float] = {}  # token id -> time.monotonic() of this process's last write


def token_used(*, token_id: int) -> None:
    now = time.monotonic()
    if now - _written.get(token_id, -INTERVAL) < INTERVAL:
        return
    _written[token_id] = now
    try:
        first = cache.add(f"patused:{token_id}", 1, INTERVAL)
    except Exception:
        logger.warning("access token cache unavailable", exc_info=True)
        first = True  # this process still writes at most once a minute
    if first:
        PersonalAccessToken.objects.filter(pk=token_id).update(last_used_at=timezone.now())
