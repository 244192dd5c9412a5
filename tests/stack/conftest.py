"""The real production stack: private PostgreSQL and Redis, two Uvicorn instances, nginx.

Nothing here is mocked or skipped: a missing binary fails with the command that installs it.
"""

from __future__ import annotations

import itertools
import os
import uuid
from dataclasses import dataclass

import pytest
import requests

from tests.support.servers import HttpClient
from tests.support.services import PostgresServer, Stack, start_stack

PASSWORD = "a-long-and-unusual-passphrase-42"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "stack: drives the real production stack (pg, redis, nginx)")


_running: list[pytest.Item] = []


@pytest.fixture(autouse=True)
def _figures_of_this_test(request: pytest.FixtureRequest):
    _running.append(request.node)
    yield
    _running.pop()


def record_figure(text: str) -> None:
    """A measured figure (throughput, timings) for the summary at the end of the run: a
    "figure" property of the running test, which reaches the report from an xdist worker too
    (tests/conftest.py prints them; the JUnit XML keeps them)."""
    _running[-1].user_properties.append(("figure", text))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.stack)


@pytest.fixture(scope="session")
def pg_server():
    """The PostgreSQL cluster of the session: the pg plugin's when it runs, else a private one."""
    from tests.support import pg_plugin

    if pg_plugin._cluster is not None:
        yield pg_plugin._cluster
        return
    server = PostgresServer.start()
    yield server
    server.stop()


_databases = itertools.count()


def new_stack(
    tmp_path_factory, pg_server: PostgresServer, *, proxied: bool = True, **env: str
) -> Stack:
    name = f"stack{next(_databases)}"
    return start_stack(
        tmp_path_factory.mktemp(name), pg=pg_server, database=name, proxied=proxied, **env
    )


@pytest.fixture(scope="session")
def stack(tmp_path_factory, pg_server):
    """The shared stack. Tests that break it (cut, restart) must leave it whole again."""
    server = new_stack(
        tmp_path_factory,
        pg_server,
        AUTH_RATE_LIMIT="100000/minute",
        SECURE_HSTS_SECONDS="60",
    )
    yield server
    server.stop()


@dataclass
class Account:
    email: str
    access: str
    refresh: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


def create_account(http: requests.Session) -> Account:
    """Register and log in a fresh user through the given client."""
    email = f"stack-{uuid.uuid4().hex[:12]}@example.com"
    registered = http.post("/auth/register/", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    login = http.post("/auth/login/", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    tokens = login.json()
    return Account(email, tokens["access"], tokens["refresh"])


@pytest.fixture
def account(stack) -> Account:
    return create_account(stack.http)


def instance_client(stack: Stack, index: int) -> HttpClient:
    """A client that talks to one app instance directly, bypassing nginx."""
    return stack.apps[index].http
