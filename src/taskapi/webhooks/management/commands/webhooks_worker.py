"""`manage.py webhooks_worker`: delivers webhooks. Run as many as needed, on as many hosts.

django-tasks-db's worker (its `db_worker` command) on the "webhooks" queue, with three additions
that its loop does not have: the recovery sweep of attempts whose worker died (recovery.py),
at start and every WEBHOOKS_SWEEP_INTERVAL seconds; a heartbeat file for the liveness probe
(alive.py); and surviving a database outage (its loop raises on any OperationalError but a
locked SQLite: ours waits and starts it again, so a PostgreSQL restart delays deliveries
instead of ending every worker at once). The sweep and heartbeat run on a side thread with its
own database connection; SIGTERM ends the current attempt and then the process (db_worker's
handling, whose signal handlers last as long as the command: run in a process that goes on,
as call_command does, it hands the signals back to the handlers it found).
"""

import contextlib
import logging
import random
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, connections
from django.db.utils import InterfaceError, OperationalError
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker

from taskapi.webhooks.delivery import QUEUE
from taskapi.webhooks.recovery import deliveries_recover
from taskapi.webhooks.retention import webhook_log_purge

logger = logging.getLogger("taskapi.webhooks")
# Waits between tries while the database is unreachable: doubling, jittered, at most
# BACKOFF_MAX, so a worker resumes within about that long after the database is back.
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 8.0
# The delivery log's purge runs with the sweep, at most this often per worker.
PURGE_INTERVAL = 600.0


def _housekeeping(stop: threading.Event) -> None:
    heartbeat = Path(settings.WEBHOOKS_HEARTBEAT_FILE)
    purged_at = float("-inf")
    while not stop.is_set():
        try:
            close_old_connections()
            recovered = deliveries_recover()
            if recovered:
                logger.warning("webhook attempts recovered", extra={"recovered": recovered})
            if time.monotonic() - purged_at >= PURGE_INTERVAL:
                purged_at = time.monotonic()
                purged = webhook_log_purge()
                if purged:
                    logger.info("webhook delivery log purged", extra={"deliveries": purged})
        except (OperationalError, InterfaceError) as error:  # it comes back: keep sweeping
            logger.warning(
                "webhook recovery sweep: database unavailable",
                extra={"error": str(error).strip()[:200]},
            )
        except Exception:
            logger.exception("webhook recovery sweep failed")
        finally:
            connection.close()
            # Alive means this process still runs its loops, not that the database answers:
            # restarting the worker would not bring the database back.
            heartbeat.touch()
        stop.wait(settings.WEBHOOKS_SWEEP_INTERVAL)


@contextlib.contextmanager
def _signal_handlers_restored() -> Iterator[None]:
    """Every signal's handler as it was before, once the block ends: db_worker installs its own
    for SIGTERM, SIGINT and SIGQUIT and never removes them, so in a process that outlives the
    command a later SIGTERM would reach a worker that has finished, and raise SystemExit in
    whatever runs then."""
    before = {signum: signal.getsignal(signum) for signum in signal.valid_signals()}
    try:
        yield
    finally:
        for signum, handler in before.items():
            # None: a handler not installed from Python, which Python cannot put back.
            if handler is not None and signal.getsignal(signum) != handler:
                signal.signal(signum, handler)


class DatabaseOutageWorker(Worker):
    """db_worker's loop, started again after the database went away instead of exiting.

    An attempt interrupted by the outage (its outcome could not be recorded) keeps its lease;
    the recovery sweep makes it again once the lease runs out, so nothing is lost.
    """

    def run(self) -> None:
        delay = BACKOFF_FIRST
        while True:
            started = time.monotonic()
            try:
                super().run()
                return
            except (OperationalError, InterfaceError) as error:
                if self.batch or not self.running:  # a one-off run, or SIGTERM came meanwhile
                    raise
                if time.monotonic() - started > BACKOFF_MAX:  # it had been working again
                    delay = BACKOFF_FIRST
                logger.warning(
                    "webhooks worker: database unavailable, retrying",
                    extra={"error": str(error).strip()[:200], "retry_in": round(delay, 2)},
                )
                with contextlib.suppress(Exception):
                    connections.close_all()
                time.sleep(delay * random.uniform(0.8, 1.2))  # noqa: S311  # nosec B311
                delay = min(delay * 2, BACKOFF_MAX)


class Command(DbWorkerCommand):
    help = "Deliver webhooks (django-tasks-db worker on the webhooks queue, with recovery)."

    def handle(self, *args: Any, **options: Any) -> None:
        # db_worker's handle, fixed to our queue, never reloading (tests restart it themselves),
        # with the worker that outlives a database outage.
        self.configure_logging(options["verbosity"])
        worker = DatabaseOutageWorker(
            queue_names=[QUEUE],
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=[],
        )
        stop = threading.Event()
        threading.Thread(
            target=_housekeeping, args=(stop,), name="webhooks-housekeeping", daemon=True
        ).start()
        try:
            with _signal_handlers_restored():
                worker.configure_signals()
                worker.run()
        finally:
            stop.set()
