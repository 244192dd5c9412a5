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
