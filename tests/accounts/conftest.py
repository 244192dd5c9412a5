import pytest
from rest_framework.test import APIClient

from taskapi.accounts.tokens import TokenPair
from tests.conftest import token_pair_for


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
