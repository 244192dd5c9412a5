"""Webhook signing secrets, encrypted at rest.

A signing secret must be read in clear to sign (HMAC), so it cannot be stored as a hash the way
a password is. It is stored sealed with Fernet (`cryptography`: AES-128-CBC and HMAC-SHA256,
authenticated) under a key that only the environment holds, so a copy of the database alone
signs nothing.

The keys are `settings.WEBHOOKS_SECRET_KEYS`, newest first, read as `SECRET_KEY_FALLBACKS` is:
the first seals, every one opens (MultiFernet). To rotate: put a new key first, keep the old one
after it, run `manage.py webhooks_reseal_secrets` (every secret sealed again under the new key),
then drop the old key.
"""

from collections.abc import Callable
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class UnreadableSecret(Exception):
    """A sealed secret that no configured key opens (a key dropped too soon)."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    # Keyed by the keys themselves: a change of settings (a test's override) takes effect.
    return _fernet(tuple(settings.WEBHOOKS_SECRET_KEYS))


def seal(secret: str) -> str:
    return _current().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    return _opened(_current().decrypt, sealed)


def reseal(sealed: str) -> str:
    """The same secret sealed under the newest key (MultiFernet.rotate)."""
    return _opened(_current().rotate, sealed)


def _opened(operation: Callable[[bytes], bytes], sealed: str) -> str:
    try:
        return operation(sealed.encode()).decode()
    except InvalidToken as error:
        raise UnreadableSecret("no key in WEBHOOKS_SECRET_KEYS opens this secret") from error
