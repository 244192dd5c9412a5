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
    from taskapi.access_tokens import lookup

    lookup._local.clear()  # each process's own copies of token entries (lookup.py)


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
