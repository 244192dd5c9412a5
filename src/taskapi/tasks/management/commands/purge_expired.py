from typing import Any

from django.core.management.base import BaseCommand

from taskapi.sync.services import deletion_records_purge
from taskapi.tasks.idempotency import idempotency_records_purge
from taskapi.tasks.services import trash_purge


class Command(BaseCommand):
    help = (
        "Erase what has outlived its retention: tasks in the trash longer than "
        "TRASH_RETENTION_DAYS, sync deletion records older than SYNC_TOKEN_MAX_AGE_DAYS plus a "
        "day, and Idempotency-Key records older than 24 hours. Bounded batches; safe to run on "
        "several instances at once (deploy/ runs it daily)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        erased = trash_purge()
        records = deletion_records_purge()
        keys = idempotency_records_purge()
        self.stdout.write(
            f"Erased {erased} task(s) from the trash, {records} sync deletion record(s) and "
            f"{keys} idempotency record(s)."
        )
