"""The text of a personal access token: what it looks like, and what can be told from it alone.

    cta_pat_ + key id (12) + secret (43) + checksum (6)        69 characters, all [0-9A-Za-z_]

- `cta_pat_` lets secret scanners (and people) recognise a token of this API, the way GitHub's
  `ghp_` does.
- The **key id** is 12 base62 characters (71 random bits): it names the row, so the server
  finds the token with one indexed lookup, and it is shown in the token's metadata (`prefix`).
- The **secret** is 32 random bytes (`secrets.token_bytes`), 43 base62 characters. Only its
  SHA-256 is stored; a high-entropy secret needs no slow hash (RFC 9700 §4 and GitHub's practice).
- The **checksum** is the CRC32 of everything before it, 6 base62 characters: a typo or a
  truncated copy is refused without a lookup, and a scanner can tell a real token from a string
  that only looks like one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import zlib
from dataclasses import dataclass

PREFIX = "cta_pat_"
KEY_ID_LENGTH = 12
SECRET_BYTES = 32
SECRET_LENGTH = 43  # 62**43 > 2**256
CHECKSUM_LENGTH = 6  # 62**6 > 2**32
LENGTH = len(PREFIX) + KEY_ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SHAPE = re.compile(rf"{PREFIX}[0-9A-Za-z]{{{LENGTH - len(PREFIX)}}}")


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(_ALPHABET[digit])
    if number:
        raise ValueError("does not fit")
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


@dataclass(frozen=True)
class Minted:
    text: str  # shown once, in the create answer
    key_id: str
    secret_hash: str


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def mint() -> Minted:
    key_id = _base62(secrets.randbits(6 * KEY_ID_LENGTH - 1), KEY_ID_LENGTH)
    secret = _base62(int.from_bytes(secrets.token_bytes(SECRET_BYTES)), SECRET_LENGTH)
    body = f"{PREFIX}{key_id}{secret}"
    return Minted(text=body + _checksum(body), key_id=key_id, secret_hash=secret_hash(secret))


def looks_like_one(text: str) -> bool:
    """Whether the credential is meant as one of these tokens (its prefix): the caller decides
    between this and a JWT before checking anything else."""
    return text.startswith(PREFIX)


def parse(text: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed token whose checksum holds; None otherwise."""
    if len(text) != LENGTH or not _SHAPE.fullmatch(text):
        return None
    body, checksum = text[:-CHECKSUM_LENGTH], text[-CHECKSUM_LENGTH:]
    if not hmac.compare_digest(_checksum(body), checksum):
        return None
    start = len(PREFIX)
    return body[start : start + KEY_ID_LENGTH], body[start + KEY_ID_LENGTH :]


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Constant time: the stored hash is compared, never the secret itself."""
    return hmac.compare_digest(secret_hash(secret), stored_hash)
