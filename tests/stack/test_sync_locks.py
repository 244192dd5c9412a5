"""The changes feed's lock is per user: writes of other users never wait for it.

A separate process runs the server's own `taskapi.sync.services.change_record` for user A inside
a transaction it keeps open, holding A's change counter locked (sync/models.py). Meanwhile user
B writes over HTTP with a 2 s timeout per request, and A's own write over HTTP waits until A's
transaction commits. Every wait is bounded: the holder commits as soon as the checks are done,
and well inside the database's statement timeout (DB_STATEMENT_TIMEOUT_MS, 5 s).
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable, Iterator
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from tests.stack.conftest import create_account
from tests.support.servers import BIN, REPO

# Run with the stack's environment: the apps' settings, code and database.
HOLDER = """
import sys

import django

django.setup()
from django.db import transaction

from taskapi.sync.services import change_record
from taskapi.tasks.models import SYNC_KIND

owner_id, task_id = int(sys.argv[1]), int(sys.argv[2])
with transaction.atomic():
    change_record(reader_ids=[owner_id], kind=SYNC_KIND, object_ids=[task_id])
    print("locked", flush=True)
    sys.stdin.readline()  # a line, or the end of input: commit
print("committed", flush=True)
"""
B_TIMEOUT = 2.0  # seconds for each of B's requests: a wait for A's lock is 5 s, then an error
BLOCKED_FOR = 1.0  # how long A's own write must still be waiting


@contextlib.contextmanager
def transaction_holding_counter(
    stack, *, owner_id: int, task_id: int
) -> Iterator[Callable[[], str]]:  # type: ignore[no-untyped-def]
    """An open transaction that called change_record for the user; yields commit()."""
    process = subprocess.Popen(
        [str(BIN / "python"), "-c", HOLDER, str(owner_id), str(task_id)],
        env=stack.env,
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = ThreadPoolExecutor(1)

    def next_line() -> str:
        return lines.submit(process.stdout.readline).result(timeout=30).strip()

    def commit() -> str:
        process.stdin.write("commit\n")
        process.stdin.flush()
        return next_line()

    try:
        locked = next_line()
        assert locked == "locked", f"{locked!r}: {process.stderr.read()}"
        yield commit
    finally:
        with contextlib.suppress(OSError, ValueError):
            process.stdin.close()  # end of input: it commits, if it has not yet
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        lines.shutdown(wait=False, cancel_futures=True)


def promptly(send: Callable[..., requests.Response], url: str, **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
    """The response within B_TIMEOUT, or a failure that says what waited."""
    try:
        return send(url, timeout=B_TIMEOUT, **kwargs)
    except requests.Timeout:
        pass
    pytest.fail(
        f"user B's {send.__name__.upper()} {url} got no answer within {B_TIMEOUT} s while "
        "user A's transaction held A's change counter: B waits for A's lock",
        pytrace=False,
    )


def lock_waiters(stack) -> int:  # type: ignore[no-untyped-def]
    """Backends of the stack's database waiting for a lock right now."""
    database = urlsplit(stack.env["DATABASE_URL"]).path.lstrip("/")
    return int(
        stack.pg.psql(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'",
            database=database,
        )
    )


def test_other_users_write_while_a_users_change_counter_is_locked(stack):
    a, b = create_account(stack.http), create_account(stack.http)
    a_id = stack.http.get("/auth/me/", headers=a.auth).json()["id"]
    first, second = stack.apps[0].http, stack.apps[1].http
    a_task = first.post("/tasks/", json={"title": "held"}, headers=a.auth).json()

    # The pool outside: on a failure the transaction ends first, then A's create can finish.
    with (
        ThreadPoolExecutor(1) as pool,
        transaction_holding_counter(stack, owner_id=a_id, task_id=a_task["id"]) as commit,
    ):
        # The control: A's create shares nothing with the open transaction but A's counter.
        a_create = pool.submit(
            first.post, "/tasks/", json={"title": "waits"}, headers=a.auth, timeout=30
        )
        futures.wait([a_create], timeout=BLOCKED_FOR)
        assert not a_create.done(), (
            f"A's create did not wait for A's open transaction: {a_create.result().status_code}"
        )
        assert lock_waiters(stack) == 1

        # B, on the instance that serves A's waiting request and on the other one.
        created = promptly(first.post, "/tasks/", json={"title": "B's"}, headers=b.auth)
        assert created.status_code == 201, created.text
        url = created.headers["Location"]
        updated = promptly(second.patch, url, json={"completed": True}, headers=b.auth)
        assert updated.status_code == 200, updated.text
        feed = promptly(second.get, "/tasks/changes/", headers=b.auth)
        assert feed.status_code == 200, feed.text
        assert feed.json()["tasks"] == [updated.json()]

        assert not a_create.done()
        assert commit() == "committed"
        assert a_create.result(timeout=10).status_code == 201

    # A's feed: the held transaction's change, then the create that waited for it.
    changes = second.get("/tasks/changes/", headers=a.auth).json()
    assert [task["title"] for task in changes["tasks"]] == ["held", "waits"]
