"""Idempotency-Key for POST /tasks/: a retry with the same key and body replays the first 201.

The task and the record of its response are inserted in ONE transaction, task first. A second
request with the same key inserts its own task, then its record insert meets the unique
(owner, key) constraint: PostgreSQL makes it wait until the first transaction ends (SQLite's
IMMEDIATE transactions already queue writers). When the first committed, the second rolls back
its task and replays the stored response; when the first rolled back, the second just proceeds.
A record is therefore never visible half-done; the 409 is for a key whose record keeps
vanishing under us (purged or replaced as expired) attempt after attempt.
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

from taskapi.tasks.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from taskapi.tasks.models import IdempotencyRecord, Task
from taskapi.tasks.selectors import HasId
from taskapi.tasks.services import task_create

KEY_PATTERN = re.compile(r"[!-~]{1,255}")  # 1..255 visible ASCII characters
KEY_TTL = timedelta(hours=24)
MAX_ATTEMPTS = 3

Render = Callable[[Task], tuple[dict[str, Any], dict[str, str]]]


@dataclass(frozen=True)
class CreateResponse:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    replayed: bool


class _KeyTaken(Exception):
    pass


def request_fingerprint(data: Any) -> str:
    """sha256 of the canonical JSON of the parsed body: key order and spacing do not count."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_record_expired_before() -> datetime:
    return timezone.now() - KEY_TTL


def task_create_idempotent(
    *, user: HasId, key: str, fingerprint: str, data: dict[str, Any], render: Render
) -> CreateResponse:
    """Create the task and remember the response under `key`, or replay what was remembered.

    `render` turns the new task into the response body and headers that are stored and replayed.
    """
    for _attempt in range(MAX_ATTEMPTS):
        try:
            with transaction.atomic():
                task = task_create(user=user, data=data)
                body, headers = render(task)
                try:
                    IdempotencyRecord.objects.create(
                        owner_id=user.id,
                        key=key,
                        fingerprint=fingerprint,
                        status_code=201,
                        response_body=body,
                        response_headers=headers,
                    )
                except IntegrityError:
                    raise _KeyTaken() from None  # leaves the block: the task is rolled back
            return CreateResponse(status=201, body=body, headers=headers, replayed=False)
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
        return CreateResponse(
            status=record.status_code,
            body=record.response_body,
            headers=record.response_headers,
            replayed=True,
        )
    raise IdempotencyKeyInFlight()


def idempotency_records_purge() -> int:
    """Delete the records older than the 24 h they are kept for; returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(
        created_at__lt=idempotency_record_expired_before()
    ).delete()
    return deleted
