"""Run the unchanged suite on a private PostgreSQL.

`pytest -p tests.support.pg_plugin --db=postgres` (or TASKAPI_TEST_DB=postgres). Before
pytest-django reads the settings, it starts a private cluster and points DATABASE_URL at it;
pytest-django then creates its test database there, and `start_live_app`
(tests.support.services) serves the HTTP tests through nginx on the same cluster. The cluster
is stopped at the end of the session, by `pg_ctl stop -m fast` on its data dir.

With pytest-xdist (`-n 2`) the controller starts the one cluster of the pass and the workers
attach to it (TASKAPI_TEST_PG, inherited); pytest-django gives each worker its own test database
(test_taskapi_gw0, ...), and only the controller stops the cluster.

It also registers the `stack` marker, so tests/stack runs with or without it.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path

import pytest

from tests.support.services import PostgresServer

_cluster: PostgresServer | None = None
_owned = False
# The controller's cluster, for its xdist workers: "<port> <pid> <root>".
SHARED = "TASKAPI_TEST_PG"


def cluster() -> PostgresServer:
    """The session's cluster; only in PostgreSQL mode."""
    if _cluster is None:
        raise RuntimeError("PostgreSQL mode is off: run pytest with -p tests.support.pg_plugin")
    return _cluster


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        dest="taskapi_db",
        choices=("sqlite", "postgres"),
        default=os.environ.get("TASKAPI_TEST_DB", "sqlite"),
        help="database backend of the suite (default: $TASKAPI_TEST_DB or sqlite)",
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser, args):  # type: ignore[no-untyped-def]
    # A wrapper runs before every plain implementation, pytest-django's included: DATABASE_URL
    # must be set before it imports the settings.
    global _cluster, _owned
    if early_config.known_args_namespace.taskapi_db == "postgres" and _cluster is None:
        shared = os.environ.get(SHARED)
        if shared and os.environ.get("PYTEST_XDIST_WORKER"):
            port, pid, root = shared.split(" ", 2)
            _cluster = PostgresServer(Path(root), int(port), int(pid))
        else:
            _cluster = PostgresServer.start()
            _owned = True
            atexit.register(_stop_cluster)
            os.environ[SHARED] = f"{_cluster.port} {_cluster.pid} {_cluster.root}"
        os.environ["TASKAPI_TEST_DB"] = "postgres"
        os.environ["DATABASE_URL"] = _cluster.url("taskapi")
    return (yield)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "stack: drives the real production stack (pg, redis, nginx)")


def pytest_report_header(config: pytest.Config) -> str:
    if _cluster is None:
        return "database: sqlite"
    return f"database: private PostgreSQL on 127.0.0.1:{_cluster.port} ({_cluster.root})"


def pytest_unconfigure(config: pytest.Config) -> None:
    _stop_cluster()


def _stop_cluster() -> None:
    global _cluster
    if _cluster is not None:
        if _owned:
            _cluster.stop()
        _cluster = None
