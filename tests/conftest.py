import pytest
from rest_framework.test import APIClient


@pytest.fixture
def client() -> APIClient:
    """An anonymous API client."""
    return APIClient()
