"""Writes to the change log. Called by the apps whose objects are synced, inside their writes."""

from collections.abc import Sequence
from dataclasses import dataclass
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
# The readers' counters are taken in the order of the (ascending) array: see models.py.
NEXT_SEQS = (
    "INSERT INTO sync_changecounter (owner_id, seq) VALUES (%s, 1) "
    "ON CONFLICT (owner_id) DO UPDATE SET seq = sync_changecounter.seq + 1 RETURNING seq"
)
# PostgreSQL: both steps in one statement (a data-modifying CTE), one round trip per write.
RECORD_POSTGRESQL = (
    "WITH next AS (INSERT INTO sync_changecounter (owner_id, seq) "
    "SELECT reader, 1 FROM unnest(%s::bigint[]) WITH ORDINALITY AS r(reader, n) ORDER BY n "
    "ON CONFLICT (owner_id) DO UPDATE SET seq = sync_changecounter.seq + 1 "
    "RETURNING owner_id, seq) "
    "INSERT INTO sync_change (owner_id, kind, object_id, seq, deleted, changed_at) "
    "SELECT next.owner_id, %s, object_id, next.seq, %s, %s "
    "FROM next, unnest(%s::bigint[]) AS object_id "
    "ON CONFLICT (owner_id, kind, object_id) DO UPDATE SET seq = EXCLUDED.seq, "
    "deleted = EXCLUDED.deleted, changed_at = EXCLUDED.changed_at"
)


def _next_seq(*, owner_id: int) -> int:
    """The user's next change number. Locks the user's counter row until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(NEXT_SEQS, [owner_id])
        return int(cursor.fetchone()[0])


@dataclass(frozen=True)
class Entry:
    """Objects that changed for some readers: live (`deleted` False) or gone from their sight."""

    reader_ids: Sequence[int]
    object_ids: Sequence[int]
    deleted: bool = False


def change_record(
    *,
    reader_ids: Sequence[int],
    kind: str,
    object_ids: Sequence[int],
    deleted: bool = False,
) -> None:
    """Record, for each reader, that these objects changed (or were deleted, or left the
    reader's sight) in this transaction.

    Call it inside the transaction that makes the change, after the change: each reader's
    counter stays locked from here until the commit, which is what orders their numbers by
    commit. Objects changed in one transaction share each reader's number. Call it once per
    transaction (changes_record for several kinds of record): readers' counters are taken in
    ascending order within one call, and two calls could take them out of order.
    """
    _check(object_ids)
    readers = sorted(set(reader_ids))
    if not readers:
        return
    if connection.vendor == "postgresql":
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(RECORD_POSTGRESQL, [readers, kind, deleted, now, list(object_ids)])
        return
    changes_record(kind=kind, entries=[Entry(readers, object_ids, deleted)])


def changes_record(*, kind: str, entries: Sequence[Entry]) -> None:
    """change_record for several entries in one transaction (a task that moves between projects:
    live for the new project's members, gone for those who cannot see it there): every reader's
    counter is taken once, all in ascending order, then the records are written."""
    for entry in entries:
        _check(entry.object_ids)
    readers = sorted({reader for entry in entries for reader in entry.reader_ids})
    if not readers:
        return
    seqs = {reader_id: _next_seq(owner_id=reader_id) for reader_id in readers}
    now = timezone.now()
    for entry in entries:
        Change.objects.bulk_create(
            [
                Change(
                    owner_id=reader_id,
                    kind=kind,
                    object_id=object_id,
                    seq=seqs[reader_id],
                    deleted=entry.deleted,
                    changed_at=now,
                )
                for reader_id in sorted(set(entry.reader_ids))
                for object_id in entry.object_ids
            ],
            update_conflicts=True,
            unique_fields=["owner", "kind", "object_id"],
            update_fields=["seq", "deleted", "changed_at"],
            batch_size=PURGE_BATCH_SIZE,
        )


def _check(object_ids: Sequence[int]) -> None:
    if not connection.in_atomic_block:
        # In autocommit the counter's lock would end before the change is written.
        raise RuntimeError("changes must be recorded inside the transaction that writes")
    if not object_ids:
        raise ValueError("a change record needs at least one object id")


def deletion_records_expired_before() -> datetime:
    return timezone.now() - settings.SYNC_TOKEN_MAX_AGE - PURGE_MARGIN


def deletion_records_purge(*, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Drop deletion records no accepted token can still need; returns how many.

    Records of live objects are never purged: a full sync reads them.
    """
    expired = Change.objects.filter(deleted=True, changed_at__lt=deletion_records_expired_before())
    return purge_in_batches(expired, oldest_first="changed_at", batch_size=batch_size)
