"""The user's current token_version, as access-token authentication sees it: cached, so a
request does not read the database.

`tokver:<user_id>` holds the version, or GONE once the user is deleted. Writers (password change,
account deletion) set the key after their transaction commits; readers fill a missing key with
cache.add, which never overwrites, so a reader holding a version read before the commit cannot
clobber the newer one.
"""

import logging

from django.core.cache import cache
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from taskapi.accounts.models import User

logger = logging.getLogger(__name__)

GONE = "gone"


def _timeout() -> int:
    # A miss costs one read, so any lifetime is correct; one access-token lifetime bounds how
    # long a value published out of order by two racing writers could linger.
    return int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds())


def _key(user_id: int) -> str:
    return f"tokver:{user_id}"


def token_version_get(*, user_id: int) -> int | None:
    """The user's token_version, or None when the user no longer exists."""
    try:
        cached = cache.get(_key(user_id))
    except Exception:  # a cache outage must not turn into 500s: fall back to the database
        logger.warning("token version cache unavailable", exc_info=True)
        cached = None
        use_cache = False
    else:
        use_cache = True
    if cached == GONE:
        return None
    if isinstance(cached, int):
        return cached
    version = User.objects.filter(pk=user_id).values_list("token_version", flat=True).first()
    if use_cache:
        try:
            cache.add(_key(user_id), GONE if version is None else version, _timeout())
        except Exception:
            logger.warning("token version cache unavailable", exc_info=True)
    return version


def token_version_publish(*, user_id: int, version: int | None) -> None:
    """Record a new version (None: user deleted). Call after the change has committed."""
    try:
        cache.set(_key(user_id), GONE if version is None else version, _timeout())
    except Exception:
        # The change has committed and must not turn into a 500. Refresh tokens are already
        # dead (the refresh flow reads the database); a cached old version can let access
        # tokens live at most one access-token lifetime, the key's own expiry.
        logger.warning("token version cache unavailable; not published", exc_info=True)
