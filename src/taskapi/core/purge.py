"""Deleting expired rows in bounded batches, safely from several instances at once."""

from collections.abc import Callable

from django.db import transaction
from django.db.models import Model, QuerySet


def purge_in_batches(
    expired: QuerySet[Model],
    *,
    oldest_first: str,
    batch_size: int,
    lock_batch: Callable[[list[int]], None] | None = None,
) -> int:
    """Delete the rows of `expired`, `batch_size` at a time, oldest first; returns how many.

    Each batch is one transaction: `lock_batch(ids)` (the locks the rows' other writers take,
    if any), then one DELETE of the ids just read that still match `expired` (a row that no
    longer qualifies, e.g. restored meanwhile, is kept). Two instances running this at once only
    ever delete a row once: the second DELETE finds it gone.
    """
    purged = 0
    while True:
        ids = list(expired.order_by(oldest_first).values_list("pk", flat=True)[:batch_size])
        if not ids:
            return purged
        with transaction.atomic():
            if lock_batch is not None:
                lock_batch(ids)
            _, deleted = expired.filter(pk__in=ids).delete()
        # Rows of this model only, not the rows deleted with them (a task's label links).
        purged += deleted.get(expired.model._meta.label, 0)
