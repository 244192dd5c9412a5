import uuid

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from taskapi.accounts.errors import (
    CurrentPasswordWrong,
    InvalidCredentials,
    InvalidRefreshToken,
)
from taskapi.accounts.models import TokenFamily, User, normalize_email
from taskapi.accounts.selectors import user_find_by_email
from taskapi.accounts.token_versions import token_version_publish
from taskapi.accounts.tokens import FAMILY_CLAIM, VERSION_CLAIM, FamilyRefreshToken, TokenPair
from taskapi.core.errors import FieldsInvalid, field_error

EMAIL_TAKEN = field_error("email", "unique", "An account with this email already exists.")


def _password_errors(*, field: str, password: str, user: User) -> list[dict[str, str]]:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return [
            field_error(field, error.code or "invalid", " ".join(error.messages))
            for error in exc.error_list
        ]
    return []


def user_register(*, email: str, password: str) -> User:
    email = normalize_email(email)
    errors = _password_errors(field="password", password=password, user=User(email=email))
    if User.objects.filter(email=email).exists():
        errors.insert(0, EMAIL_TAKEN)
    if errors:
        raise FieldsInvalid(errors=errors)
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=password)
    except IntegrityError:
        # A concurrent registration of the same email won the unique constraint.
        raise FieldsInvalid(errors=[EMAIL_TAKEN]) from None


def _burn_password_hash(password: str) -> None:
    # Unknown email: hash anyway, so the answer takes as long as a wrong password's would.
    User().set_password(password)


def token_obtain(*, email: str, password: str) -> TokenPair:
    """Log in: a new token family with its first refresh token, and an access token."""
    user = user_find_by_email(email=email)
    if user is None:
        _burn_password_hash(password)
        raise InvalidCredentials()
    if not user.check_password(password) or not user.is_active:
        raise InvalidCredentials()
    return token_pair_issue(user=user)


@transaction.atomic
def token_pair_issue(*, user: User) -> TokenPair:
    """The tokens of a new login of `user`, whose credentials the caller has checked."""
    family = TokenFamily.objects.create(user=user)
    return _token_pair_mint(user_id=user.pk, version=user.token_version, family=family)


def _token_pair_mint(*, user_id: int, version: int, family: TokenFamily) -> TokenPair:
    refresh = FamilyRefreshToken()
    refresh[jwt_settings.USER_ID_CLAIM] = str(user_id)
    refresh[VERSION_CLAIM] = version
    refresh[FAMILY_CLAIM] = family.id.hex
    # Every refresh token we hand out is outstanding, rotated ones included (simplejwt #25,
    # #363), so revocation can find it. The token itself is not stored: a copy of this table
    # must not be a pile of live credentials.
    OutstandingToken.objects.create(
        user_id=user_id,
        jti=refresh[jwt_settings.JTI_CLAIM],
        token="",
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def _refresh_claims(raw: str) -> tuple[int, int, uuid.UUID, str]:
    """(user_id, version, family_id, jti) of a refresh token with a valid signature and type."""
    try:
        # simplejwt annotates the argument as a Token; what it takes is the encoded token.
        token = FamilyRefreshToken(raw)  # type: ignore[arg-type]
        return (
            int(token[jwt_settings.USER_ID_CLAIM]),
            int(token[VERSION_CLAIM]),
            uuid.UUID(hex=str(token[FAMILY_CLAIM])),
            str(token[jwt_settings.JTI_CLAIM]),
        )
    except (TokenError, KeyError, TypeError, ValueError):
        raise InvalidRefreshToken() from None


def token_refresh(*, refresh: str) -> TokenPair:
    """Rotate: the presented refresh token dies, a new one joins its family.

    A refresh token presented after it was rotated means two parties hold the family (one of
    them probably a thief), so reuse revokes the whole family.
    """
    user_id, version, family_id, jti = _refresh_claims(refresh)
    with transaction.atomic():
        pair = _token_rotate(user_id=user_id, version=version, family_id=family_id, jti=jti)
    # Raised only now: inside the block, the exception would roll back a family revocation.
    if pair is None:
        raise InvalidRefreshToken()
    return pair


def _token_rotate(
    *, user_id: int, version: int, family_id: uuid.UUID, jti: str
) -> TokenPair | None:
    # The row lock makes two concurrent refreshes of one token queue: the second then sees the
    # token blacklisted, which is reuse.
    outstanding = (
        OutstandingToken.objects.select_for_update().filter(jti=jti, user_id=user_id).first()
    )
    if outstanding is None:  # never issued, or its user was deleted (user_id set to NULL)
        return None
    family = TokenFamily.objects.select_for_update().filter(pk=family_id, user_id=user_id).first()
    if family is None or family.is_revoked:
        return None
    if BlacklistedToken.objects.filter(token=outstanding).exists():
        family.revoked_at = timezone.now()
        family.save(update_fields=["revoked_at"])
        return None
    current = (
        User.objects.filter(pk=user_id, is_active=True)
        .values_list("token_version", flat=True)
        .first()
    )
    if current is None or current != version:
        return None
    BlacklistedToken.objects.create(token=outstanding)
    return _token_pair_mint(user_id=user_id, version=current, family=family)


def token_revoke(*, user_id: int, refresh: str) -> None:
    """Log out: revoke the family of a refresh token that belongs to `user_id`."""
    claimed_user_id, _version, family_id, jti = _refresh_claims(refresh)
    if claimed_user_id != user_id:
        raise InvalidRefreshToken()  # someone else's token: not yours to revoke
    with transaction.atomic():
        family = (
            TokenFamily.objects.select_for_update().filter(pk=family_id, user_id=user_id).first()
        )
        outstanding = OutstandingToken.objects.filter(jti=jti, user_id=user_id).first()
        if family is not None and outstanding is not None:
            if not family.is_revoked:
                family.revoked_at = timezone.now()
                family.save(update_fields=["revoked_at"])
            BlacklistedToken.objects.get_or_create(token=outstanding)
    if family is None or outstanding is None:
        raise InvalidRefreshToken()


def _tokens_revoke_all(*, user_id: int) -> None:
    TokenFamily.objects.filter(user_id=user_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    live = OutstandingToken.objects.filter(user_id=user_id, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=pk) for pk in live.values_list("pk", flat=True)],
        ignore_conflicts=True,
    )


def user_change_password(*, user: User, current_password: str, new_password: str) -> None:
    """Set a new password; every token issued before stops working."""
    if not user.check_password(current_password):
        raise CurrentPasswordWrong("current_password")
    errors = _password_errors(field="new_password", password=new_password, user=user)
    if errors:
        raise FieldsInvalid(errors=errors)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.set_password(new_password)
        locked.token_version += 1
        locked.save(update_fields=["password", "token_version"])
        _tokens_revoke_all(user_id=locked.pk)
    token_version_publish(user_id=locked.pk, version=locked.token_version)


def user_delete(*, user: User, password: str) -> None:
    """Delete the account and everything it owns; its tokens stop working at once."""
    if not user.check_password(password):
        raise CurrentPasswordWrong("password")
    user_id = user.pk
    with transaction.atomic():
        # Blacklisted before the delete: OutstandingToken.user becomes NULL on delete, and a
        # token whose user is gone must stay dead, not become unknown (simplejwt #402, #516).
        _tokens_revoke_all(user_id=user_id)
        user.delete()
    token_version_publish(user_id=user_id, version=None)
