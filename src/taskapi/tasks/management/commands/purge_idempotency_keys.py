from typing import Any

from django.core.management.base import BaseCommand

from taskapi.tasks.idempotency import idempotency_records_purge


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than 24 hours (run it hourly, e.g. from cron)."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = idempotency_records_purge()
        self.stdout.write(f"Deleted {deleted} expired idempotency record(s).")
