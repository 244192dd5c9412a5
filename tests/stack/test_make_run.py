"""`make run` stops as a whole when make alone is signalled, as an IDE or a supervisor does it
(`kill <pid of make>`): Uvicorn and the webhooks worker it started go with it.

A signal to make's whole process group (Ctrl-C in a terminal) reaches every process anyway;
a signal to make's PID alone reaches only make, which waits for its recipe.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.support.servers import REPO, app_environment, free_port

pytestmark = pytest.mark.timeout(150)
STOP_WITHIN = 60


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from the kernel's own child lists."""
    found: set[int] = set()
    pending = [pid]
    while pending:
        parent = pending.pop()
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{parent}/task").iterdir():
                children = (task / "children").read_text().split()
                for child in map(int, children):
                    if child not in found:
                        found.add(child)
                        pending.append(child)
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def is_running(pid: int) -> bool:
    """Alive and not a zombie waiting for its parent to read its status."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_until_answering(url: str, make: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert make.poll() is None, f"make run exited with {make.returncode}"
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"make run did not answer on {url} within {timeout} s")


@pytest.fixture
def make_run(tmp_path):
    """`make run` on a free loopback port and a SQLite database in tmp_path, in a session of its
    own so that whatever the test leaves is stopped by that session's id afterwards."""
    port = free_port()
    env = app_environment(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    # A make of its own, not a sub-make of the `make test` that may be running this.
    for name in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES"):
        env.pop(name, None)
    log = (tmp_path / "make-run.log").open("wb")
    make = subprocess.Popen(
        ["make", "--no-print-directory", "run", "HOST=127.0.0.1", f"PORT={port}"],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/health/", make)
        yield make
    finally:
        # Only what this test started: its own session, by id.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(make.pid, signal.SIGKILL)
        make.wait(10)
        log.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_make_run_stops_everything_it_started_when_make_alone_is_signalled(make_run, signum):
    started = descendants(make_run.pid)
    commands = [command_line(pid) for pid in started]
    assert any("uvicorn" in command for command in commands), commands
    assert any("webhooks_worker" in command for command in commands), commands

    os.kill(make_run.pid, signum)  # make's PID only, not its process group

    # A bound on liveness, not a speed: the recipe polls make every 0.5 s, and Uvicorn and the
    # worker shut down gracefully; on a loaded 2-core machine that once took longer than 30 s.
    deadline = time.monotonic() + STOP_WITHIN
    while time.monotonic() < deadline:
        left = {pid for pid in started if is_running(pid)}
        if make_run.poll() is not None and not left:
            break
        time.sleep(0.1)
    left = {pid: command_line(pid) for pid in started if is_running(pid)}
    assert not left, f"still running {STOP_WITHIN} s after {signum.name} to make: {left}"
    assert make_run.poll() is not None, "make itself is still running"
