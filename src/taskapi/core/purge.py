"""Deleting expired rows in bounded batches, safely from several instances at once."""

from django.db.models import Model, QuerySet


def purge_in_batches(expired: QuerySet[Model], *, oldest_first: str, batch_size: int) -> int:
    """Delete the rows of `expired`, `batch_size` at a time, oldest first; returns how many.

    Each batch is one DELETE of the ids just read that still match `expired` (a row that no
    longer qualifies, e.g. restored meanwhile, is kept), so two instances running this at once
    only ever delete a row once: the second DELETE finds it gone.
    """
    purged = 0
    while True:
        ids = list(expired.order_by(oldest_first).values_list("pk", flat=True)[:batch_size])
        if not ids:
            return purged
        deleted, _ = expired.filter(pk__in=ids).delete()
        purged += deleted
