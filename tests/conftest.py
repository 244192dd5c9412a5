from pathlib import Path

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.support.secret_guard import (
    HASH,
    no_secret_leaks,  # noqa: F401  (autouse, every test)
)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # Rate-limit counters and token versions live in the cache, which outlives a test's
    # database rollback (and SQLite then hands the same user ids out again).
    cache.clear()


@pytest.fixture
def client() -> APIClient:
    """An anonymous API client."""
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


def token_pair_for(user):
    """The tokens of a fresh login of `user`, minted by the real token service."""
    from taskapi.accounts.services import token_pair_issue
    from taskapi.accounts.token_versions import token_version_publish

    # The cache outlives each test's rolled-back database, in which SQLite reuses user ids:
    # make sure a previous test's deleted user with this id does not shadow this one.
    token_version_publish(user_id=user.pk, version=user.token_version)
    return token_pair_issue(user=user)


@pytest.fixture
def api_client(user) -> APIClient:
    """An API client logged in as `user`, with a real Bearer access token."""
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_for(user).access}")
    return api


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The real app, shared by the session's HTTP tests: Uvicorn on a fresh SQLite database, or
    with `-p tests.support.pg_plugin --db=postgres` two instances on PostgreSQL and Redis behind
    nginx (tests.support.services.start_live_app).

    Tests that use it must create their own users: they share one database.
    """
    from tests.support.services import start_live_app

    server = start_live_app(
        tmp_path_factory.mktemp("live-app"),
        # Generous: the suite registers many users from one address.
        AUTH_RATE_LIMIT="100000/minute",
    )
    yield server
    server.stop()
    # The server's own log lines are outside the per-test guard: check them all at the end.
    assert not HASH.search(server.log()), "a password hash reached the server log"


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """The figures tests measured (tests/stack's record_figure, the Schemathesis run), from the
    reports: under xdist the workers' own output is not shown."""
    figures = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "teardown"
        for name, value in getattr(report, "user_properties", ())
        if name == "figure"
    ]
    if figures:
        terminalreporter.section("measured figures")
        for figure in figures:
            terminalreporter.write_line(figure)


# --- Running side by side (pytest-xdist, `make test`: -n 2 --dist loadgroup) -----------------
# Shared fixtures cheap enough to make once per worker: no reason to keep their tests together.
# (pg_server: a private cluster starts in about a second; each stack has its own database.)
PER_WORKER = {"pg_server", "release", "rendered_overlays"}
SUITES = (Path(__file__).resolve().parent, Path(__file__).resolve().parents[1] / "contract")
# The longest work first, so that the other core is never left alone with a long tail: seconds
# each took in a `make test` run on 2 cores, roughly (pytest --durations, build/test-results).
LONGEST_FIRST = (
    "contract/test_schemathesis.py",
    "tests/bench/test_bench_smoke.py",
    "contract/test_compat.py",
    "tests/stack/",
    "contract/test_clients.py",
)


def _shared_fixtures(item: pytest.Item) -> list[str]:
    """The fixtures of this project that `item` shares with other tests: session-scoped ones
    by name, module- or class-scoped ones by name within their module or class."""
    keys = []
    for name in item.fixturenames:
        definitions = item._fixtureinfo.name2fixturedefs.get(name)  # type: ignore[attr-defined]
        if not definitions or name in PER_WORKER:
            continue
        definition = definitions[-1]
        if definition.scope == "function" or not _defined_here(definition.func):
            continue
        if definition.scope in ("session", "package"):
            keys.append(name)
        elif definition.scope == "module":
            keys.append(f"{item.nodeid.split('::')[0]}::{name}")
        else:
            keys.append(f"{item.nodeid.rsplit('::', 1)[0]}::{name}")
    return keys


def _defined_here(function) -> bool:  # type: ignore[no-untyped-def]
    try:
        path = Path(function.__code__.co_filename).resolve()
    except AttributeError:
        return False
    return any(path.is_relative_to(suite) for suite in SUITES)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, keep the tests that share a server or a database on one worker (one
    `xdist_group` per set of tests linked by a shared fixture), and start the longest first."""
    if not hasattr(config, "workerinput"):  # not an xdist worker: one process runs them all
        return
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    shared = {item.nodeid: _shared_fixtures(item) for item in items}
    for keys in shared.values():
        for key in keys[1:]:
            parent[root(key)] = root(keys[0])
    for item in items:
        if shared[item.nodeid]:
            item.add_marker(pytest.mark.xdist_group(root(shared[item.nodeid][0])))

    def rank(item: pytest.Item) -> int:
        for index, prefix in enumerate(LONGEST_FIRST):
            if item.nodeid.startswith(prefix):
                return index
        return len(LONGEST_FIRST)

    # A stable sort: pytest-django's order (database tests before transactional ones) holds
    # within each rank.
    items.sort(key=rank)
