"""Reads of the change log: one page of a user's changes after a position."""

from dataclasses import dataclass

from django.db.models import Q

from taskapi.sync.models import Change
from taskapi.sync.tokens import START, FeedPosition


@dataclass(frozen=True)
class ChangePage:
    changed_ids: list[int]  # objects changed (live when recorded), in change order
    deleted_ids: list[int]  # objects deleted
    position: FeedPosition  # where the next page starts
    has_more: bool


def change_page(*, owner_id: int, kind: str, after: FeedPosition, limit: int) -> ChangePage:
    """Up to `limit` changes of the user's objects of `kind` after `after`, in commit order.

    One index range scan on (owner, kind, seq, object_id). From the start (a full sync) the
    client holds nothing, so deleted objects are not listed; they are still read and passed
    over, so that the next token starts after them and does not list them either.
    """
    changes = Change.objects.filter(owner_id=owner_id, kind=kind)
    if after != START:
        # `seq >= s` alone bounds the index range; the OR drops what the client already has.
        changes = changes.filter(
            Q(seq__gte=after.seq) & (Q(seq__gt=after.seq) | Q(object_id__gt=after.object_id))
        )
    rows = list(
        changes.order_by("seq", "object_id").values_list("object_id", "seq", "deleted")[: limit + 1]
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    position = FeedPosition(seq=rows[-1][1], object_id=rows[-1][0]) if rows else after
    return ChangePage(
        changed_ids=[object_id for object_id, _seq, deleted in rows if not deleted],
        deleted_ids=[]
        if after == START
        else [object_id for object_id, _seq, deleted in rows if deleted],
        position=position,
        has_more=has_more,
    )
