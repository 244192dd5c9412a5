"""Idempotency-Key for POST /tasks/ and POST /tasks/bulk/: a retry with the same key and body
replays the first answer.

The writes and the record of their response are inserted in ONE transaction, writes first. A
second request with the same key makes its own writes, then its record insert meets the unique
(owner, key) constraint: PostgreSQL makes it wait until the first transaction ends (SQLite's
IMMEDIATE transactions already queue writers). When the first committed, the second rolls back
its writes and replays the stored response; when the first rolled back, the second just proceeds.
A record is therefore never visible half-done; the 409 is for a key whose record keeps
vanishing under us (purged or replaced as expired) attempt after attempt.

Keys are the user's, one namespace for every operation that takes one: the operation is part of
the fingerprint, so a key used on POST /tasks/ and then on POST /tasks/bulk/ is a 422 (another
request), never the replay of the other operation's answer.
"""

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from taskapi.core.scoping import HasId
from taskapi.tasks.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from taskapi.tasks.models import IdempotencyRecord, Task
from taskapi.tasks.services import task_create

KEY_PATTERN = re.compile(r"[!-~]{1,255}")  # 1..255 visible ASCII characters
KEY_TTL = timedelta(hours=24)
MAX_ATTEMPTS = 3

Render = Callable[[Task], tuple[dict[str, Any], dict[str, str]]]
# Runs inside the transaction that stores its answer: the writes, then (status, body, headers).
Perform = Callable[[], tuple[int, dict[str, Any], dict[str, str]]]


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    replayed: bool


class _KeyTaken(Exception):
    pass


def request_fingerprint(data: Any, *, operation: str | None = None) -> str:
    """sha256 of the canonical JSON of the parsed body: key order and spacing do not count.

    `operation` (an operationId) is hashed in front of the body, so the same key and body on two
    operations never match. POST /tasks/ passes none: its records stored before there was a
    second operation must keep matching their retries.
    """
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if operation is not None:
        canonical = f"{operation}\n{canonical}"
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_record_expired_before() -> datetime:
    return timezone.now() - KEY_TTL


def respond_once(*, user: HasId, key: str, fingerprint: str, perform: Perform) -> StoredResponse:
    """Run `perform` and remember its answer under `key`, or replay what was remembered.

    `perform` runs in the transaction that inserts the record: when the key turns out to be
    taken, its writes are rolled back with the record insert.
    """
    for _attempt in range(MAX_ATTEMPTS):
        try:
            with transaction.atomic():
                status, body, headers = perform()
                try:
                    IdempotencyRecord.objects.create(
                        owner_id=user.id,
                        key=key,
                        fingerprint=fingerprint,
                        status_code=status,
                        response_body=body,
                        response_headers=headers,
                    )
                except IntegrityError:
                    raise _KeyTaken() from None  # leaves the block: the writes are rolled back
            return StoredResponse(status=status, body=body, headers=headers, replayed=False)
        except _KeyTaken:
            pass

        record = IdempotencyRecord.objects.filter(owner_id=user.id, key=key).first()
        if record is None:
            continue  # purged between our insert and this read: try again
        if record.created_at < idempotency_record_expired_before():
            # Older than the promised 24 h: the key is free again. Delete exactly the row we
            # saw, so a concurrent request's fresh record is never removed.
            IdempotencyRecord.objects.filter(pk=record.pk, created_at=record.created_at).delete()
            continue
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        return StoredResponse(
            status=record.status_code,
            body=record.response_body,
            headers=record.response_headers,
            replayed=True,
        )
    raise IdempotencyKeyInFlight()


def task_create_idempotent(
    *, user: HasId, key: str, fingerprint: str, data: dict[str, Any], render: Render
) -> StoredResponse:
    """Create the task and remember the response under `key`, or replay what was remembered.

    `render` turns the new task into the response body and headers that are stored and replayed.
    """

    def perform() -> tuple[int, dict[str, Any], dict[str, str]]:
        body, headers = render(task_create(user=user, data=data))
        return 201, body, headers

    return respond_once(user=user, key=key, fingerprint=fingerprint, perform=perform)


def idempotency_records_purge() -> int:
    """Delete the records older than the 24 h they are kept for; returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(
        created_at__lt=idempotency_record_expired_before()
    ).delete()
    return deleted
