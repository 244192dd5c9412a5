"""Bearer credentials of both kinds, told apart by the token's prefix (secrets.py): a login's
JWT goes to the accounts authentication unchanged; a personal access token is checked here,
from the cache (lookup.py), with no database read once its entry is cached."""

import time

from rest_framework.request import Request

from taskapi.access_tokens.lookup import TokenEntry, token_entry_get
from taskapi.access_tokens.secrets import PREFIX, looks_like_one, parse, secret_matches
from taskapi.access_tokens.usage import token_used
from taskapi.accounts.authentication import (
    EXPIRED,
    INVALID,
    AccessTokenAuthentication,
    TokenUser,
)


class BearerAuthentication(AccessTokenAuthentication):
    def authenticate(self, request: Request) -> tuple[TokenUser, object] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if PREFIX not in header:  # a JWT, or nothing: the accounts path, untouched
            return super().authenticate(request)
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != "bearer" or not looks_like_one(parts[1]):
            return super().authenticate(request)
        return self._personal(request, parts[1])

    def _personal(self, request: Request, text: str) -> tuple[TokenUser, TokenEntry]:
        parsed = parse(text)
        if parsed is None:  # a typo or a truncated copy: refused without a lookup
            self._refuse(request, INVALID)
        key_id, secret = parsed
        entry = token_entry_get(key_id=key_id)
        # Revoked, deleted and never issued read alike: the answer tells nothing more.
        if entry is None or not secret_matches(secret, entry.secret_hash):
            self._refuse(request, INVALID)
        if entry.expires_at <= time.time():
            self._refuse(request, EXPIRED)
        token_used(token_id=entry.token_id)
        return TokenUser(id=entry.user_id, scopes=entry.scopes, token_id=entry.token_id), entry
