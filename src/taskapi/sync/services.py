"""Writes to the change log. Called by the apps whose objects are synced, inside their writes."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from taskapi.core.purge import purge_in_batches
from taskapi.sync.models import Change

# Deletion records outlive the oldest token still accepted by this margin: it covers the time
# between a writer reading the clock and committing, and clock skew between instances.
PURGE_MARGIN = timedelta(days=1)
PURGE_BATCH_SIZE = 1000


# Literal SQL (the models' default table names), written out so no query is built from strings.
NEXT_SEQ = (
    "INSERT INTO sync_changecounter (owner_id, seq) VALUES (%s, 1) "
    "ON CONFLICT (owner_id) DO UPDATE SET seq = sync_changecounter.seq + 1 RETURNING seq"
)
# PostgreSQL: both steps in one statement (a data-modifying CTE), one round trip per write.
RECORD_POSTGRESQL = (
    "WITH next AS (INSERT INTO sync_changecounter (owner_id, seq) VALUES (%s, 1) "
    "ON CONFLICT (owner_id) DO UPDATE SET seq = sync_changecounter.seq + 1 RETURNING seq) "
    "INSERT INTO sync_change (owner_id, kind, object_id, seq, deleted, changed_at) "
    "SELECT %s, %s, object_id, next.seq, %s, %s FROM next, unnest(%s::bigint[]) AS object_id "
    "ON CONFLICT (kind, object_id) DO UPDATE SET seq = EXCLUDED.seq, "
    "deleted = EXCLUDED.deleted, changed_at = EXCLUDED.changed_at "
    "RETURNING seq"
)


def _next_seq(*, owner_id: int) -> int:
    """The user's next change number. Locks the user's counter row until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(NEXT_SEQ, [owner_id])
        return int(cursor.fetchone()[0])


def _record_postgresql(
    *, owner_id: int, kind: str, object_ids: Sequence[int], deleted: bool, now: datetime
) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            RECORD_POSTGRESQL, [owner_id, owner_id, kind, deleted, now, list(object_ids)]
        )
        return int(cursor.fetchone()[0])


def change_record(
    *, owner_id: int, kind: str, object_ids: Sequence[int], deleted: bool = False
) -> int:
    """Record that these objects of one user changed (or were deleted) in this transaction.

    Call it inside the transaction that makes the change, after the change: the user's counter
    stays locked from here until the commit, which is what orders the numbers by commit.
    Objects changed in one transaction share its number. Returns that number.
    """
    if not connection.in_atomic_block:
        # In autocommit the counter's lock would end before the change is written.
        raise RuntimeError("change_record() must run inside the transaction that writes")
    if not object_ids:
        raise ValueError("change_record() needs at least one object id")
    now = timezone.now()
    if connection.vendor == "postgresql":
        return _record_postgresql(
            owner_id=owner_id, kind=kind, object_ids=object_ids, deleted=deleted, now=now
        )
    seq = _next_seq(owner_id=owner_id)
    Change.objects.bulk_create(
        [
            Change(
                owner_id=owner_id,
                kind=kind,
                object_id=object_id,
                seq=seq,
                deleted=deleted,
                changed_at=now,
            )
            for object_id in object_ids
        ],
        update_conflicts=True,
        unique_fields=["kind", "object_id"],
        update_fields=["seq", "deleted", "changed_at"],
    )
    return seq


def deletion_records_expired_before() -> datetime:
    return timezone.now() - settings.SYNC_TOKEN_MAX_AGE - PURGE_MARGIN


def deletion_records_purge(*, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Drop deletion records no accepted token can still need; returns how many.

    Records of live objects are never purged: a full sync reads them.
    """
    expired = Change.objects.filter(deleted=True, changed_at__lt=deletion_records_expired_before())
    return purge_in_batches(expired, oldest_first="changed_at", batch_size=batch_size)
