"""Real server processes for tests: Uvicorn serving the app, on a free loopback port.

Each helper starts exactly one process and stops exactly that process (by PID, never by name).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Every server log of this session: the contract-coverage plugin reads them at the end.
SERVER_LOGS: list[Path] = []


def request_id_for_current_test() -> str | None:
    """An X-Request-ID that names the running test, for contract/coverage_plugin.py.

    Same prefix as contract.coverage_plugin.request_id_prefix (not imported: tests/ does not
    depend on contract/).
    """
    current = os.environ.get("PYTEST_CURRENT_TEST")  # "path::name[param] (call)"
    if not current:
        return None
    nodeid = current.rsplit(" (", 1)[0]
    return f"test-{hashlib.sha256(nodeid.encode()).hexdigest()[:16]}-{uuid.uuid4().hex[:16]}"


class HttpClient(requests.Session):
    """A session bound to one server: paths are relative to it, and every call has a timeout."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        super().__init__()
        self.base_url = base_url
        self.timeout = timeout

    def request(self, method: str, url: str, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeout)
        request_id = request_id_for_current_test()
        if request_id is not None:
            headers = requests.structures.CaseInsensitiveDict(kwargs.get("headers") or {})
            headers.setdefault("X-Request-ID", request_id)  # a test's own id wins
            kwargs["headers"] = headers
        return super().request(
            method, f"{self.base_url}{url}" if url.startswith("/") else url, **kwargs
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_environment(**overrides: str) -> dict[str, str]:
    """The environment of a production-like app process: base settings, a strong random key."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="taskapi.settings.base",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(REPO)]),
        LOG_LEVEL="INFO",
    )
    env.update(overrides)
    return env


@dataclass
class ServerProcess:
    """One running process, its log file, and how to reach it."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    port: int
    _log_file: object = field(repr=False, default=None)

    @property
    def http(self) -> HttpClient:
        """A fresh HTTP session to this server (no cookies or auth shared between callers)."""
        return HttpClient(self.base_url)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then SIGKILL if it has not exited in time. Returns the exit code."""
        stop_process(self.process, timeout)
        if self._log_file is not None:
            self._log_file.close()
        return self.process.returncode


def stop_process(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Stop exactly this process: SIGTERM, then SIGKILL if it has not exited in `timeout` s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def wait_until_healthy(
    process: subprocess.Popen[bytes],
    url: str,
    *,
    log: Callable[[], str],
    stop: Callable[[], object],
    name: str = "server",
    timeout: float = 30.0,
    headers: dict[str, str] | None = None,
) -> None:
    """Poll `url` until it answers 200; stop the process and raise (with its log) if it exits
    or does not get there in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log()}")
        try:
            if requests.get(url, timeout=1, headers=headers).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    stop()
    raise RuntimeError(f"{name} did not become healthy in {timeout} s:\n{log()}")


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [str(BIN / "python"), str(REPO / "manage.py"), "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=REPO,
        check=True,
    )


def start_uvicorn(
    env: dict[str, str],
    *,
    workdir: Path,
    port: int | None = None,
    host: str = "127.0.0.1",
    workers: int = 1,
    extra_args: tuple[str, ...] = (),
) -> ServerProcess:
    """Start Uvicorn the way `make run` does and wait until /health/ answers."""
    port = port or free_port()
    log_path = workdir / f"uvicorn-{port}.log"
    SERVER_LOGS.append(log_path)
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [
            str(BIN / "uvicorn"),
            "taskapi.asgi:application",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "10",
            *extra_args,
        ],
        env=env,
        cwd=REPO,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    server = ServerProcess(process, f"http://{host}:{port}", log_path, port, log_file)
    wait_until_healthy(process, f"{server.base_url}/health/", log=server.log, stop=server.stop)
    return server


def start_sqlite_app(workdir: Path | None = None, **env_overrides: str) -> ServerProcess:
    """A fresh SQLite database, migrated, served by a real Uvicorn process."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="taskapi-app-"))
    env = app_environment(DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}", **env_overrides)
    migrate(env)
    return start_uvicorn(env, workdir=workdir)
