"""What every app's selectors share: the user a read is scoped to, and the read of one owned
object by id, which answers a missing id and another user's id with the same 404."""

from typing import Any, Protocol, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet

from taskapi.core.errors import NotFound

# Largest id a BigAutoField holds; a larger id cannot exist, and SQLite would overflow on it.
MAX_ID = 2**63 - 1

_Row = TypeVar("_Row")


class HasId(Protocol):
    """The request's light token user or a User row: selectors only ever compare `owner_id`."""

    id: int


def id_check(object_id: int, *, not_found: type[NotFound]) -> None:
    """`not_found` for an id no object can have, before any query."""
    if not 1 <= object_id <= MAX_ID:
        raise not_found()


def scoped_get(
    objects: "QuerySet[Any, _Row]", *, object_id: int, not_found: type[NotFound]
) -> _Row:
    """The object with this id among `objects`, already scoped to the user, or `not_found`.

    404 rather than 403 for another user's object: a 403 would confirm the id exists.
    """
    id_check(object_id, not_found=not_found)
    try:
        return objects.get(pk=object_id)
    except ObjectDoesNotExist:  # the model's DoesNotExist
        raise not_found() from None
