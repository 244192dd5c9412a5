from taskapi.accounts.errors import AccountGone
from taskapi.accounts.models import User, normalize_email


def user_get(*, user_id: int) -> User:
    try:
        return User.objects.get(pk=user_id, is_active=True)
    except User.DoesNotExist:
        raise AccountGone() from None


def user_find_by_email(*, email: str) -> User | None:
    return User.objects.filter(email=normalize_email(email)).first()
