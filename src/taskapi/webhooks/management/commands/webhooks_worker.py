"""`manage.py webhooks_worker`: delivers webhooks. Run as many as needed, on as many hosts.

django-tasks-db's worker (its `db_worker` command) on the "webhooks" queue, with two additions
that its loop does not have: the recovery sweep of attempts whose worker died (recovery.py),
at start and every SWEEP_INTERVAL, and a heartbeat file for the liveness probe (alive.py).
They run on a side thread with its own database connection; SIGTERM ends the current attempt
and then the process (db_worker's handling).
"""

import logging
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from taskapi.webhooks.recovery import deliveries_recover
from taskapi.webhooks.tasks import QUEUE

logger = logging.getLogger("taskapi.webhooks")
SWEEP_INTERVAL = 15.0


def _housekeeping(stop: threading.Event) -> None:
    heartbeat = Path(settings.WEBHOOKS_HEARTBEAT_FILE)
    while not stop.is_set():
        try:
            close_old_connections()
            recovered = deliveries_recover()
            if recovered:
                logger.warning("webhook attempts recovered", extra={"recovered": recovered})
        except Exception:  # the database may be down: keep sweeping, it comes back
            logger.exception("webhook recovery sweep failed")
        finally:
            connection.close()
            # Alive means this process still runs its loops, not that the database answers:
            # restarting the worker would not bring the database back.
            heartbeat.touch()
        stop.wait(SWEEP_INTERVAL)


class Command(DbWorkerCommand):
    help = "Deliver webhooks (django-tasks-db worker on the webhooks queue, with recovery)."

    def handle(self, *args: Any, **options: Any) -> None:
        options["queue_name"] = QUEUE
        options["reload"] = False  # never in production; tests restart it themselves
        stop = threading.Event()
        threading.Thread(
            target=_housekeeping, args=(stop,), name="webhooks-housekeeping", daemon=True
        ).start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
