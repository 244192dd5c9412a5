import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from taskapi.accounts.tokens import TokenPair
from tests.accounts.secret_guard import no_secret_leaks  # noqa: F401 - autouse guard
from tests.conftest import token_pair_for


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # Rate-limit counters and token versions live in the cache, which outlives a test's
    # database rollback (and SQLite then hands the same user ids out again).
    cache.clear()


@pytest.fixture
def http() -> APIClient:
    """An anonymous client that sends JSON bodies."""
    client = APIClient()
    client.default_format = "json"
    return client


@pytest.fixture
def tokens(user) -> TokenPair:
    return token_pair_for(user)


@pytest.fixture
def authed(http: APIClient, tokens: TokenPair) -> APIClient:
    """`http`, with the Bearer access token of `user`."""
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access}")
    return http
