import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.fixture
def client() -> APIClient:
    """An anonymous API client."""
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def api_client(user) -> APIClient:
    """An API client logged in as `user`."""
    api = APIClient()
    api.force_authenticate(user=user)
    return api


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The real app under Uvicorn on a fresh SQLite database, shared by the session's HTTP tests.

    Tests that use it must create their own users: they share one database.
    """
    from tests.support.servers import start_sqlite_app

    server = start_sqlite_app(
        tmp_path_factory.mktemp("live-app"),
        # Generous: the suite registers many users from one address.
        AUTH_RATE_LIMIT="100000/minute",
    )
    yield server
    server.stop()
