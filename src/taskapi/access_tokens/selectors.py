from django.db.models import QuerySet

from taskapi.access_tokens.errors import AccessTokenNotFound
from taskapi.access_tokens.models import PersonalAccessToken
from taskapi.core.scoping import HasId, scoped_get


def token_list(*, user: HasId) -> QuerySet[PersonalAccessToken]:
    return PersonalAccessToken.objects.filter(user_id=user.id).order_by("pk")


def token_get(*, user: HasId, token_id: int) -> PersonalAccessToken:
    """The user's token; another user's is the 404 of a missing id."""
    return scoped_get(token_list(user=user), object_id=token_id, not_found=AccessTokenNotFound)
