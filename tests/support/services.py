"""Private instances of the production stack for tests and benchmarks.

PostgreSQL, Redis, nginx (with the project's deploy/nginx config) and Uvicorn app instances, each
on a free loopback port in a temporary directory. Each starter returns a handle whose `stop()`
stops exactly what it started, by PID (PostgreSQL by `pg_ctl stop -m fast` on its own data dir).

A missing binary is an error that names the install command, never a skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.servers import (
    BIN,
    REPO,
    HttpClient,
    ServerProcess,
    app_environment,
    free_port,
    migrate,
    start_sqlite_app,
    start_uvicorn,
)
from tests.support.tcp_proxy import TcpProxy

INSTALL_HINT = (
    "run `make system-packages` (as root: apt-get update && apt-get install -y "
    "postgresql redis-server nginx wrk)"
)
NGINX_DIR = REPO / "deploy" / "nginx"
# How every app instance runs: the flags of deploy/systemd/taskapi@.service that matter here.
UVICORN_ARGS = ("--no-proxy-headers", "--no-server-header", "--timeout-keep-alive", "75")


class MissingBinary(RuntimeError):
    pass


def require(name: str, *, candidates: tuple[str, ...] = ()) -> str:
    """The path of an executable, or MissingBinary naming the install command."""
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not found:
        raise MissingBinary(f"{name} is not installed: {INSTALL_HINT}")
    return found


def pg_bin(tool: str) -> str:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return require(tool, candidates=tuple(str(v / tool) for v in versions))


def wait_for_port(port: int, *, timeout: float = 15.0, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def _stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15.0):
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


# --- PostgreSQL -----------------------------------------------------------------------------
@dataclass
class PostgresServer:
    """A private cluster: its own data dir and socket dir, owned by the `postgres` user."""

    root: Path
    port: int
    pid: int

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "postgres.log"

    @classmethod
    def start(cls, *, port: int | None = None) -> PostgresServer:
        initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
        # Not under pytest's tmp_path: that is root-only (0700) and postgres must reach its files.
        root = Path(tempfile.mkdtemp(prefix="taskapi-pg-"))
        _chown_to_postgres(root)
        port = port or free_port()
        _as_postgres(
            [
                initdb,
                "-D",
                str(root / "data"),
                "--auth=trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        options = " ".join(
            [
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
                # A test cluster: durability is not what is under test, speed is welcome.
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        _as_postgres(
            [
                pg_ctl,
                "-D",
                str(root / "data"),
                "-o",
                options,
                "-l",
                str(root / "postgres.log"),
                "-w",
                "-t",
                "30",
                "start",
            ]
        )
        pid = int((root / "data" / "postmaster.pid").read_text().split()[0])
        return cls(root, port, pid)

    def url(self, database: str, *, port: int | None = None) -> str:
        return f"postgres://postgres@127.0.0.1:{port or self.port}/{database}"

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        result = _as_postgres(
            [
                pg_bin("psql"),
                "-h",
                str(self.root),
                "-p",
                str(self.port),
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-Atqc",
                sql,
            ]
        )
        return result.stdout.strip()

    def create_database(self, name: str) -> str:
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.data_dir.exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                _as_postgres(
                    [pg_bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"]
                )
        shutil.rmtree(self.root, ignore_errors=True)


def _as_postgres(command: list[str]) -> subprocess.CompletedProcess[str]:
    # PostgreSQL refuses to run as root: as root, run it as the `postgres` system user.
    if os.geteuid() == 0:
        command = [require("runuser"), "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, capture_output=True, text=True, cwd="/")


def _chown_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        import pwd

        try:
            entry = pwd.getpwnam("postgres")
        except KeyError:
            raise MissingBinary(
                f"the postgres system user does not exist: {INSTALL_HINT}"
            ) from None
        os.chown(path, entry.pw_uid, entry.pw_gid)


# --- Redis ----------------------------------------------------------------------------------
@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int
    root: Path

    @classmethod
    def start(cls, workdir: Path) -> RedisServer:
        binary = require("redis-server")
        port = free_port()
        root = workdir / f"redis-{port}"
        root.mkdir(parents=True)
        log = (root / "redis.log").open("wb")
        process = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(root),
                "--daemonize",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_for_port(port, process=process)
        return cls(process, port, root)

    def url(self, *, port: int | None = None) -> str:
        return f"redis://127.0.0.1:{port or self.port}/0"

    def stop(self) -> None:
        _stop_process(self.process)


# --- nginx ----------------------------------------------------------------------------------
def render_nginx_site(**values: str) -> str:
    """deploy/nginx/taskapi.conf.template rendered by deploy/nginx/render.sh with these values."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **values}
    return subprocess.run(
        [str(NGINX_DIR / "render.sh")], env=env, check=True, capture_output=True, text=True
    ).stdout


def make_tls_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            require("openssl"),
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def nginx_main_config(prefix: Path, site: Path) -> str:
    """The private main config around the project's site file: pid, logs and temp under prefix."""
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = prefix / "tmp"
    return f"""{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {site};
}}
"""


def nginx_test(config: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require("nginx"), "-t", "-c", str(config), "-p", f"{prefix}/"],
        capture_output=True,
        text=True,
    )


@dataclass
class NginxServer:
    process: subprocess.Popen[bytes]
    prefix: Path
    config: Path
    site: Path
    port: int
    http_port: int
    scheme: str
    cert: Path
    values: dict[str, str]

    @classmethod
    def start(cls, workdir: Path, upstreams: list[str], *, tls: bool = True) -> NginxServer:
        binary = require("nginx")
        prefix = workdir / f"nginx-{free_port()}"
        for sub in ("logs", "tmp"):
            (prefix / sub).mkdir(parents=True)
        cert, key = make_tls_certificate(prefix)
        port, http_port = free_port(), free_port()
        site = prefix / "taskapi.conf"
        values = {
            "PUBLIC_LISTEN": f"127.0.0.1:{port} ssl http2" if tls else f"127.0.0.1:{port}",
            "HTTP_LISTEN": f"127.0.0.1:{http_port}",
            "APP_1": upstreams[0],
            "APP_2": upstreams[1] if len(upstreams) > 1 else upstreams[0],
            "TLS_CERT": str(cert),
            "TLS_KEY": str(key),
            "LOG_DIR": str(prefix / "logs"),
        }
        site.write_text(render_nginx_site(**values))
        config = prefix / "nginx.conf"
        config.write_text(nginx_main_config(prefix, site))
        checked = nginx_test(config, prefix)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{checked.stderr}")
        log = (prefix / "logs" / "stderr.log").open("wb")
        process = subprocess.Popen(
            [binary, "-c", str(config), "-p", f"{prefix}/", "-g", "daemon off;"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_for_port(port, process=process)
        scheme = "https" if tls else "http"
        return cls(process, prefix, config, site, port, http_port, scheme, cert, values)

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def set_drained(self, index: int, drained: bool) -> None:
        """Take upstream `index` (0 or 1) out of rotation, or put it back, as
        deploy/systemd/rolling-restart.sh does: re-render with `down`, reload, and wait until
        the old workers have finished their requests and closed their upstream connections.
        """
        key = f"APP_{index + 1}"
        address = self.values[key].split()[0]
        self.values[key] = f"{address} down" if drained else address
        self.site.write_text(render_nginx_site(**self.values))
        checked = nginx_test(self.config, self.prefix)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{checked.stderr}")
        old_workers = self._workers()
        self.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while self._workers() & old_workers:
            if time.monotonic() > deadline:
                raise RuntimeError("nginx's old workers did not finish within 30 s")
            time.sleep(0.05)

    def _workers(self) -> set[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()}

    def access_log(self) -> list[str]:
        path = self.prefix / "logs" / "taskapi.access.log"
        return path.read_text().splitlines() if path.exists() else []

    def access_log_with(self, text: str, *, timeout: float = 5.0) -> list[str]:
        """The access log lines containing text, waiting for them: nginx writes a request's
        line after the client may already have the response."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [line for line in self.access_log() if text in line]
            if lines or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)

    def stop(self) -> None:
        # SIGQUIT: graceful, in-flight requests finish.
        _stop_process(self.process, signal.SIGQUIT)


class TlsHttpClient(HttpClient):
    """Trusts the stack's own certificate (an explicit verify beats REQUESTS_CA_BUNDLE)."""

    def __init__(self, base_url: str, *, ca_file: str, timeout: float = 10.0) -> None:
        super().__init__(base_url, timeout)
        self.ca_file = ca_file

    def request(self, method: str, url: str, **kwargs):  # type: ignore[override]
        kwargs.setdefault("verify", self.ca_file)
        return super().request(method, url, **kwargs)


# --- Webhooks workers -----------------------------------------------------------------------
@dataclass
class WebhooksWorker:
    """One `manage.py webhooks_worker` process, as systemd or Kubernetes runs it beside the app:
    same settings and environment, its own log and heartbeat file."""

    process: subprocess.Popen[bytes]
    log_path: Path
    heartbeat: Path
    _log_file: object = field(repr=False, default=None)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive_probe(self) -> int:
        """The exit code of the liveness probe the deployments run against this worker."""
        return subprocess.run(
            [str(BIN / "python"), "-m", "taskapi.webhooks.alive"],
            env={**os.environ, "WEBHOOKS_HEARTBEAT_FILE": str(self.heartbeat)},
            capture_output=True,
            timeout=30,
        ).returncode

    def kill(self) -> int:
        """SIGKILL, as a lost machine or the OOM killer ends it: nothing runs after."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._close_log()
        return self.process.returncode

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (it finishes the current attempt), then SIGKILL if it has not exited."""
        _stop_process(self.process, timeout=timeout)
        self._close_log()
        return self.process.returncode

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def start_webhooks_worker(
    env: dict[str, str], *, workdir: Path, timeout: float = 30.0
) -> WebhooksWorker:
    """Start `python manage.py webhooks_worker` and wait until its loops run (its heartbeat file
    is written after its first recovery sweep)."""
    name = f"webhooks-worker-{uuid.uuid4().hex[:8]}"
    log_path, heartbeat = workdir / f"{name}.log", workdir / f"{name}.alive"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [str(BIN / "python"), str(REPO / "manage.py"), "webhooks_worker"],
        env={**env, "WEBHOOKS_HEARTBEAT_FILE": str(heartbeat)},
        cwd=REPO,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    worker = WebhooksWorker(process, log_path, heartbeat, log_file)
    deadline = time.monotonic() + timeout
    while not heartbeat.exists():
        if process.poll() is not None:
            raise RuntimeError(f"webhooks worker exited with {process.returncode}:\n{worker.log()}")
        if time.monotonic() > deadline:
            worker.stop()
            raise RuntimeError(f"webhooks worker not running after {timeout} s:\n{worker.log()}")
        time.sleep(0.05)
    return worker


# --- The whole stack --------------------------------------------------------------------------
@dataclass
class Stack:
    """PostgreSQL and Redis (each behind a TcpProxy), two app instances, nginx in front."""

    workdir: Path
    pg: PostgresServer
    redis: RedisServer
    pg_proxy: TcpProxy | None  # None: the apps reach the service directly
    redis_proxy: TcpProxy | None
    env: dict[str, str]
    apps: list[ServerProcess]
    nginx: NginxServer
    owns_pg: bool = False
    workers: list[WebhooksWorker] = field(default_factory=list)
    _stopped: bool = field(default=False, repr=False)

    @property
    def base_url(self) -> str:
        return self.nginx.base_url

    @property
    def port(self) -> int:
        return self.nginx.port

    @property
    def http(self) -> HttpClient:
        """A fresh session to the public (nginx) side."""
        return TlsHttpClient(self.base_url, ca_file=str(self.nginx.cert))

    def log(self) -> str:
        """Every app instance's log, one JSON object a line."""
        return "".join(app.log() for app in self.apps)

    def restart_app(self, index: int, *, drain: bool = True) -> float:
        """Restart one instance the way deploy/systemd/rolling-restart.sh does; returns seconds.

        drain: nginx stops sending it requests first. Without it, a POST that nginx writes to
        an idle keep-alive connection at the instant Uvicorn closes it fails with a 502 (nginx
        may not resend a POST), however graceful the shutdown.
        """
        started = time.monotonic()
        if drain:
            self.nginx.set_drained(index, True)
        old = self.apps[index]
        old.stop(timeout=30)  # SIGTERM: requests in flight finish
        self.apps[index] = start_uvicorn(
            self.env, workdir=self.workdir, port=old.port, extra_args=UVICORN_ARGS
        )
        if drain:
            self.nginx.set_drained(index, False)
        return time.monotonic() - started

    def start_webhooks_worker(self) -> WebhooksWorker:
        """One more webhooks worker beside the app instances, with the apps' environment."""
        worker = start_webhooks_worker(self.env, workdir=self.workdir)
        self.workers.append(worker)
        return worker

    def stop_webhooks_workers(self) -> None:
        """SIGTERM every running worker, each by its PID."""
        while self.workers:
            self.workers.pop().stop()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        workers = [worker.stop for worker in self.workers]
        for stopper in (*workers, self.nginx.stop, *(app.stop for app in self.apps)):
            with contextlib.suppress(Exception):
                stopper()
        for proxy in (self.pg_proxy, self.redis_proxy):
            if proxy is not None:
                proxy.stop()
        self.redis.stop()
        if self.owns_pg:
            self.pg.stop()


def start_stack(
    workdir: Path,
    *,
    pg: PostgresServer | None = None,
    database: str = "taskapi",
    tls: bool = True,
    proxied: bool = True,
    webhooks_workers: int = 0,
    **env_overrides: str,
) -> Stack:
    """Start the stack; a given PostgreSQL cluster is reused (with a new database) and kept.

    webhooks_workers: how many `manage.py webhooks_worker` processes to start beside the apps.

    proxied: the apps reach PostgreSQL and Redis through a TcpProxy each, which outage tests cut.
    The proxies run in this (test) process: leave them out where they would only add latency.
    """
    owns_pg = pg is None
    pg = pg or PostgresServer.start()
    started: list = []
    try:
        pg.create_database(database)
        redis = RedisServer.start(workdir)
        started.append(redis)
        pg_proxy = redis_proxy = None
        if proxied:
            pg_proxy = TcpProxy("127.0.0.1", pg.port).start()
            started.append(pg_proxy)
            redis_proxy = TcpProxy("127.0.0.1", redis.port).start()
            started.append(redis_proxy)
        env = app_environment(
            DATABASE_URL=pg.url(database, port=pg_proxy.port if pg_proxy else None),
            REDIS_URL=redis.url(port=redis_proxy.port if redis_proxy else None),
            TRUSTED_PROXIES="127.0.0.1",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            **env_overrides,
        )
        migrate(env)
        # One secret for both instances: a token signed by one is valid on the other.
        with ThreadPoolExecutor(2) as pool:
            futures = [
                pool.submit(start_uvicorn, env, workdir=workdir, extra_args=UVICORN_ARGS)
                for _ in range(2)
            ]
            apps = [f.result() for f in futures]
        started.extend(apps)
        nginx = NginxServer.start(workdir, [app.base_url.split("//")[1] for app in apps], tls=tls)
        started.append(nginx)
        workers = []
        for _ in range(webhooks_workers):
            workers.append(start_webhooks_worker(env, workdir=workdir))
            started.append(workers[-1])
    except BaseException:
        for item in reversed(started):
            with contextlib.suppress(Exception):
                item.stop()
        if owns_pg:
            pg.stop()
        raise
    return Stack(workdir, pg, redis, pg_proxy, redis_proxy, env, apps, nginx, owns_pg, workers)


# --- The suite's live app in PostgreSQL mode -------------------------------------------------
def postgres_mode() -> bool:
    return os.environ.get("TASKAPI_TEST_DB", "sqlite") == "postgres"


def start_live_app(workdir: Path, **env_overrides: str) -> ServerProcess | Stack:
    """The suite's live server: SQLite Uvicorn, or in PostgreSQL mode the stack behind nginx.

    In PostgreSQL mode (tests.support.pg_plugin) it serves plain HTTP, so tests that write raw
    HTTP/1.1 to the socket still can; tests/stack covers the TLS listener.
    """
    if not postgres_mode():
        return start_sqlite_app(workdir, **env_overrides)
    from tests.support import pg_plugin

    return start_stack(
        workdir, pg=pg_plugin.cluster(), database="taskapi_live", tls=False, **env_overrides
    )


@contextlib.contextmanager
def running_stack(workdir: Path, **kwargs) -> Iterator[Stack]:  # type: ignore[no-untyped-def]
    stack = start_stack(workdir, **kwargs)
    try:
        yield stack
    finally:
        stack.stop()
