"""Issuing and revoking access tokens. Revocation is published to the cache once it commits
(lookup.py), so every instance refuses the token from then on."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from taskapi.access_tokens.errors import AccessTokenLimitReached
from taskapi.access_tokens.lookup import tokens_forget
from taskapi.access_tokens.models import MAX_TOKENS_PER_USER, PersonalAccessToken
from taskapi.access_tokens.secrets import mint
from taskapi.access_tokens.selectors import token_get, token_list
from taskapi.accounts.models import User
from taskapi.core.scoping import HasId


@transaction.atomic
def token_create(
    *, user: HasId, name: str, scopes: list[str], expires_at: datetime
) -> tuple[PersonalAccessToken, str]:
    """The new token and its text, which is never stored and never shown again."""
    # The user's row, locked: two concurrent creates cannot both take the last place, and the
    # token records the token_version it was made under.
    version = (
        User.objects.select_for_update().filter(pk=user.id).values_list("token_version", flat=True)
    ).get()
    if token_list(user=user).count() >= MAX_TOKENS_PER_USER:
        raise AccessTokenLimitReached()
    minted = mint()
    token = PersonalAccessToken.objects.create(
        user_id=user.id,
        name=name,
        key_id=minted.key_id,
        secret_hash=minted.secret_hash,
        scopes=sorted(scopes),
        user_version=version,
        created_at=timezone.now(),
        expires_at=expires_at,
    )
    return token, minted.text


@transaction.atomic
def token_delete(*, user: HasId, token_id: int) -> None:
    token = token_get(user=user, token_id=token_id)
    token.delete()
    tokens_forget(key_ids=[token.key_id])


def tokens_revoke_older(*, user_id: int, version: int) -> None:
    """Remove the user's tokens made before their token_version became `version` (a password
    change): they already fail (lookup.py compares the versions); this deletes the rows."""
    stale = PersonalAccessToken.objects.filter(user_id=user_id, user_version__lt=version)
    key_ids = list(stale.values_list("key_id", flat=True))
    stale.delete()
    tokens_forget(key_ids=key_ids)


def tokens_forget_all(*, user_id: int) -> None:
    """Before the user is deleted (the rows go with them, by cascade): publish the revocation."""
    key_ids = PersonalAccessToken.objects.filter(user_id=user_id).values_list("key_id", flat=True)
    tokens_forget(key_ids=list(key_ids))
