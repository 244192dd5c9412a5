"""Configuration that explains itself: every environment variable the app reads is documented in
deploy/env.example, and a bad value stops the process at start-up with one line that names the
variable, says what is wrong and gives a good value (issue 25), never a 500 later.

Each case runs `manage.py check` in its own process, in parallel: a bad value stops the process
while it loads the settings, long before Django is set up, so each costs a fraction of a second.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from uvicorn.config import STARTUP_FAILURE

from tests.support.servers import BIN, REPO, free_port, stop_process

ENV_EXAMPLE = REPO / "deploy" / "env.example"
STRONG_KEY = secrets.token_urlsafe(64)
# What the messages give as the example of a secret: a command that prints a fresh one.
SECRET_EXAMPLE = "$(python -c 'import secrets; print(secrets.token_urlsafe(64))')"

# Reads of one variable by name, in any of the forms the code uses.
_READS = [
    r"\benv\.\w+\(\s*['\"]([A-Z][A-Z0-9_]*)['\"]",
    r"\bos\.environ(?:\.get|\.setdefault|\.pop)?\(\s*['\"]([A-Z][A-Z0-9_]*)['\"]",
    r"\bos\.environ\[\s*['\"]([A-Z][A-Z0-9_]*)['\"]\s*\]",
    r"['\"]([A-Z][A-Z0-9_]*)['\"]\s+(?:not\s+)?in\s+os\.environ\b",
    r"\bos\.getenv\(\s*['\"]([A-Z][A-Z0-9_]*)['\"]",
]


def variables_read_by_the_app() -> set[str]:
    sources = [*sorted((REPO / "src" / "taskapi").rglob("*.py")), REPO / "manage.py"]
    text = "\n".join(path.read_text() for path in sources)
    return {name for pattern in _READS for name in re.findall(pattern, text)}


def variables_read_by_the_units() -> set[str]:
    """Variables the systemd units expand themselves (`${UVICORN_WORKERS}` in ExecStart)."""
    units = sorted((REPO / "deploy" / "systemd").glob("*.service"))
    return {
        name for unit in units for name in re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", unit.read_text())
    }


def variables_documented() -> list[str]:
    return re.findall(r"^#?([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.M)


def test_the_scan_finds_reads_of_each_form():
    read = variables_read_by_the_app()

    # settings (env.str), asgi.py (os.environ.setdefault), core/metrics.py ("X" in os.environ)
    assert {"DJANGO_SECRET_KEY", "DJANGO_SETTINGS_MODULE", "PROMETHEUS_MULTIPROC_DIR"} <= read
    assert "UVICORN_WORKERS" in variables_read_by_the_units()  # ExecStart's --workers


def test_env_example_documents_exactly_the_variables_read_each_once():
    documented = variables_documented()

    assert len(documented) == len(set(documented)), "a variable is listed twice"
    assert set(documented) == variables_read_by_the_app() | variables_read_by_the_units()


@dataclass(frozen=True)
class Bad:
    name: str
    value: str
    hidden: str | None = None  # part of the value that must not reach the output (a secret)
    others: tuple[tuple[str, str], ...] = ()  # good values of other variables, set with it

    @property
    def id(self) -> str:
        pairs = ((self.name, self.value), *self.others)
        return " ".join(f"{name}={value}" for name, value in pairs)

    def env(self, workdir: Path, value: str | None = None) -> dict[str, str]:
        return app_env(workdir, **dict(self.others), **{self.name: value or self.value})


BAD_VALUES = [
    Bad("DJANGO_SETTINGS_MODULE", "taskapi.settings.production"),
    Bad("DJANGO_DEBUG", "maybe"),
    Bad("DJANGO_SECRET_KEY", "short-but-random-Q8w", hidden="short-but-random-Q8w"),
    Bad("ALLOWED_HOSTS", "https://api.example.com"),
    Bad("ALLOWED_HOSTS", "api.example.com:443"),
    Bad("LOG_LEVEL", "LOUD"),
    Bad("STATIC_ROOT", "staticfiles"),
    Bad("REQUEST_THREADS", "0"),
    Bad("DATABASE_URL", "garbage"),
    Bad("DATABASE_URL", "mysql://taskapi:hunter2-secret@db.internal/taskapi", hidden="hunter2"),
    Bad("DATABASE_URL", "postgres://taskapi:hunter2-secret@db.internal:port/taskapi", "hunter2"),
    Bad("DB_POOL_MIN_SIZE", "-1"),
    Bad("DB_POOL_MAX_SIZE", "0"),
    Bad("DB_POOL_MAX_SIZE", "4", others=(("DB_POOL_MIN_SIZE", "8"),)),
    Bad("DB_POOL_TIMEOUT", "soon"),
    Bad("DB_CONNECT_TIMEOUT", "3s"),
    Bad("DB_STATEMENT_TIMEOUT_MS", "5 seconds"),
    Bad("REDIS_URL", "localhost:6379"),
    Bad("REDIS_URL", "redis://:hunter2-secret@cache.internal:port/0", hidden="hunter2"),
    Bad("JWT_SIGNING_KEY", "hunter2-jwt", hidden="hunter2"),
    Bad("ACCESS_TOKEN_LIFETIME", "abc"),
    Bad("REFRESH_TOKEN_LIFETIME", "-5"),
    Bad("AUTH_RATE_LIMIT", "lots"),
    Bad("AUTH_RATE_LIMIT", "10/fortnight"),
    Bad("AUTH_RATE_LIMIT", "0/minute"),
    Bad("ACCESS_TOKEN_RATE_LIMIT", "often"),
    Bad("ACCESS_TOKEN_USER_RATE_LIMIT", "0/hour"),
    Bad("TRASH_RETENTION_DAYS", "0"),
    Bad("SYNC_TOKEN_MAX_AGE_DAYS", "7"),  # below TRASH_RETENTION_DAYS (30)
    Bad("WEBHOOKS_ALLOW_LOOPBACK", "sometimes"),
    Bad("WEBHOOKS_CONNECT_TIMEOUT", "fast"),
    Bad("WEBHOOKS_CONNECT_TIMEOUT", "20"),  # more than WEBHOOKS_TIMEOUT (15)
    Bad("WEBHOOKS_TIMEOUT", "90"),
    Bad("WEBHOOKS_HEARTBEAT_FILE", "alive"),
    Bad("WEBHOOKS_RETENTION_DAYS", "1"),
    Bad("WEBHOOKS_LEASE_SECONDS", "10"),  # not above WEBHOOKS_TIMEOUT (15)
    Bad("WEBHOOKS_SWEEP_INTERVAL", "60"),
    Bad("WEBHOOKS_SECRET_KEYS", "hunter2-not-a-fernet-key", hidden="hunter2"),
    Bad(
        "WEBHOOKS_SECRET_KEYS",
        "gGeQ4Ebuu3jtDyELh9Xq6P3sTG2Pm0H6ypSDn3Q7hdE=,hunter2-second",
        hidden="hunter2",
    ),
    Bad("TRUSTED_PROXIES", "nginx"),
    Bad("SECURE_SSL_REDIRECT", "yes please"),
    Bad("SECURE_HSTS_SECONDS", "1 year"),
    Bad("SECURE_HSTS_INCLUDE_SUBDOMAINS", "sure"),
    Bad("SECURE_HSTS_PRELOAD", "2"),
    Bad("PROMETHEUS_MULTIPROC_DIR", "/nonexistent/taskapi-metrics"),
]
BAD_IDS = [bad.id for bad in BAD_VALUES]


def app_env(workdir: Path, **variables: str) -> dict[str, str]:
    """A production-like environment (base settings, a strong key, SQLite in `workdir`) without
    any of the app's variables this process happens to have, plus `variables`."""
    ours = set(variables_documented())
    env = {key: value for key, value in os.environ.items() if key not in ours}
    env.update(
        PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(REPO)]),
        DJANGO_SETTINGS_MODULE="taskapi.settings.base",
        DJANGO_SECRET_KEY=STRONG_KEY,
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
    )
    env.update(variables)
    return env


def run_all(commands: list[tuple[list[str], dict[str, str]]]) -> list[subprocess.CompletedProcess]:
    def run(command: tuple[list[str], dict[str, str]]) -> subprocess.CompletedProcess:
        argv, env = command
        return subprocess.run(
            argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(run, commands))


MANAGE_CHECK = [sys.executable, "manage.py", "check"]
# Loads the settings and nothing else: what every process does first.
LOAD_SETTINGS = [sys.executable, "-c", "from django.conf import settings; settings.INSTALLED_APPS"]


@pytest.fixture(scope="module")
def refusals(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    workdir = tmp_path_factory.mktemp("bad-values")
    results = run_all([(MANAGE_CHECK, bad.env(workdir)) for bad in BAD_VALUES])
    return dict(zip(BAD_IDS, results, strict=True))


def the_line(result: subprocess.CompletedProcess) -> str:
    """The one line a refused start prints; fails unless there is exactly one."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_every_variable_the_app_reads_has_a_bad_value_case():
    assert {bad.name for bad in BAD_VALUES} == variables_read_by_the_app()


@pytest.mark.parametrize("bad", BAD_VALUES, ids=BAD_IDS)
def test_a_bad_value_stops_the_process_with_one_line_naming_the_variable(refusals, bad):
    result = refusals[bad.id]

    assert result.returncode == STARTUP_FAILURE, result.stdout + result.stderr
    assert result.stdout == ""
    line = the_line(result)
    assert line.startswith(bad.name), line
    assert f"; for example {bad.name}=" in line, line
    if bad.hidden is not None:
        assert bad.hidden not in line


def example_in(line: str, name: str) -> str:
    example = line.split(f"; for example {name}=", 1)[1]
    return STRONG_KEY if example == SECRET_EXAMPLE else example


@pytest.fixture(scope="module")
def example_loads(refusals, tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    workdir = tmp_path_factory.mktemp("examples")
    commands = []
    for bad in BAD_VALUES:
        example = example_in(the_line(refusals[bad.id]), bad.name)
        if bad.name == "PROMETHEUS_MULTIPROC_DIR":
            # The example is the systemd unit's directory, which exists only there: an absolute
            # path stands for it, and an existing directory is what the check wants.
            assert example.startswith("/")
            example = str(workdir)
        commands.append((LOAD_SETTINGS, bad.env(workdir, example)))
    return dict(zip(BAD_IDS, run_all(commands), strict=True))


@pytest.mark.parametrize("bad", BAD_VALUES, ids=BAD_IDS)
def test_the_example_each_line_gives_is_a_good_value(example_loads, bad):
    result = example_loads[bad.id]

    assert result.returncode == 0, result.stderr


def test_the_settings_load_with_nothing_but_a_secret_set(tmp_path):
    (result,) = run_all([(LOAD_SETTINGS, app_env(tmp_path))])

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("command", ["migrate", "webhooks_worker", "purge_expired"])
def test_every_management_command_refuses_a_bad_value_the_same_way(tmp_path, command):
    (result,) = run_all(
        [([sys.executable, "manage.py", command], app_env(tmp_path, AUTH_RATE_LIMIT="lots"))]
    )

    assert result.returncode == STARTUP_FAILURE, result.stdout + result.stderr
    assert the_line(result).startswith("AUTH_RATE_LIMIT='lots' ")


@pytest.mark.server
@pytest.mark.parametrize("workers", [1, 2])
def test_uvicorn_stops_with_one_line_instead_of_a_traceback_or_a_restart_loop(tmp_path, workers):
    # Several workers: Uvicorn starts a worker that died again, unless it exits with
    # STARTUP_FAILURE; then the whole server stops.
    log_path = tmp_path / "uvicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                *(str(BIN / "uvicorn"), "taskapi.asgi:application"),
                *("--port", str(free_port()), "--workers", str(workers)),
            ],
            env=app_env(tmp_path, ACCESS_TOKEN_LIFETIME="abc"),
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stop_process(process, timeout=10)
            pytest.fail(f"Uvicorn still runs after 60 s:\n{log_path.read_text()[-2000:]}")
    output = log_path.read_text()

    assert "Traceback" not in output
    naming = {line for line in output.splitlines() if "ACCESS_TOKEN_LIFETIME" in line}
    assert naming == {
        "ACCESS_TOKEN_LIFETIME='abc' is not a whole number of seconds; "
        "for example ACCESS_TOKEN_LIFETIME=300"
    }, output
    # With several workers the status is the supervisor's: Uvicorn's exits 0 once it stopped.
    if workers == 1:
        assert process.returncode == STARTUP_FAILURE, output


def test_manage_py_still_takes_the_settings_module_from_the_command_line(tmp_path):
    (result,) = run_all(
        [
            (
                [
                    sys.executable,
                    "manage.py",
                    "diffsettings",
                    "--settings=tests.support.fault_settings",
                ],
                app_env(tmp_path),
            )
        ]
    )

    assert result.returncode == 0, result.stderr
    assert "ROOT_URLCONF = 'tests.support.fault_urls'" in result.stdout


def test_an_empty_settings_module_is_refused_in_one_line(tmp_path):
    (result,) = run_all([(MANAGE_CHECK, app_env(tmp_path, DJANGO_SETTINGS_MODULE=""))])

    assert result.returncode == STARTUP_FAILURE, result.stderr
    assert the_line(result) == (
        "DJANGO_SETTINGS_MODULE is not set; "
        "for example DJANGO_SETTINGS_MODULE=taskapi.settings.base"
    )
