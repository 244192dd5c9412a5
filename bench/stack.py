"""The processes a benchmark run drives.

PostgreSQL, Redis and nginx come from tests/support/services.py (the production nginx template,
plain HTTP on loopback). Uvicorn is started here because the baseline is another ASGI app; its
flags are the production ones (services.UVICORN_ARGS, from deploy/systemd/taskapi@.service).
Everything listens on a free loopback port and is stopped by the PID started here.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.servers import BIN, REPO, free_port, stop_process, wait_until_healthy
from tests.support.services import (
    UVICORN_ARGS,
    NginxServer,
    PostgresServer,
    RedisServer,
    _as_postgres,
    pg_bin,
)

__all__ = ["NginxServer", "PostgresServer", "RedisServer", "Uvicorn", "enable_pg_stat_statements"]


def enable_pg_stat_statements(
    pg: PostgresServer, *, shared_buffers: str, max_connections: int
) -> None:
    """Restart the cluster with pg_stat_statements loaded (it counts statements under load).

    ALTER SYSTEM sets what PostgresServer.start leaves at its default; max_connections is one
    of its command-line options, which win over ALTER SYSTEM, so the restart passes them all
    again (from postmaster.opts) with that one changed: every app's pools fill up at once.
    """
    pg.psql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
    pg.psql(f"ALTER SYSTEM SET shared_buffers = '{shared_buffers}'")
    argv = shlex.split((pg.data_dir / "postmaster.opts").read_text())[1:]
    options = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "-D":
            skip = True
        elif arg.startswith("max_connections="):
            options.append(f"max_connections={max_connections}")
        else:
            options.append(arg)
    # -l: the new postmaster must not inherit (and hold open) the pipe psql's output is read from.
    _as_postgres(
        [pg_bin("pg_ctl"), "-D", str(pg.data_dir), "-l", str(pg.log_path), "-o",
         shlex.join(options), "-m", "fast", "-w", "restart"]
    )  # fmt: skip
    pg.pid = int((pg.data_dir / "postmaster.pid").read_text().split()[0])
    pg.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    # Known only once the library is loaded.
    pg.psql("ALTER SYSTEM SET pg_stat_statements.track = 'all'")
    pg.psql("SELECT pg_reload_conf()")


@dataclass
class Uvicorn:
    """One Uvicorn master (and its workers), started with the production flags."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    _log: object = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @classmethod
    def start(
        cls,
        name: str,
        app: str,
        env: dict[str, str],
        *,
        workdir: Path,
        workers: int,
        extra_args: tuple[str, ...] = (),
        python: str = "",
    ) -> Uvicorn:
        """`python`: another interpreter (with the dependencies installed) to serve the app."""
        port = free_port()
        log_path = workdir / f"{name}-{port}.log"
        log = log_path.open("wb")
        uvicorn = [python, "-m", "uvicorn"] if python else [str(BIN / "uvicorn")]
        process = subprocess.Popen(
            [*uvicorn, app, "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers), "--no-access-log", "--timeout-graceful-shutdown", "10",
             *UVICORN_ARGS, *extra_args],
            env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        server = cls(name, process, port, log_path, log)
        wait_until_healthy(
            process,
            f"http://{server.address}/health/",
            log=server.log_tail,
            stop=server.stop,
            name=name,
            timeout=60.0,
            headers={"Host": "127.0.0.1"},
        )
        return server

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the master itself with one worker, else the
        children multiprocessing spawned (not its resource tracker)."""
        children: list[int] = []
        for task in Path(f"/proc/{self.process.pid}/task").glob("*/children"):
            try:
                children += [int(pid) for pid in task.read_text().split()]
            except OSError:
                continue  # that thread ended meanwhile
        workers = []
        for pid in children:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline:
                workers.append(pid)
        return sorted(workers) or [self.process.pid]

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 20.0) -> None:
        stop_process(self.process, timeout)
        if self._log is not None:
            self._log.close()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (all their threads)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat
    return total / ticks


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cores() -> int:
    return len(os.sched_getaffinity(0))
