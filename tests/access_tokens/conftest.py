from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from taskapi.access_tokens.models import Scope
from taskapi.access_tokens.services import token_create

ALL_SCOPES = [scope.value for scope in Scope]


def make_token(user, scopes=None, *, days: int = 30) -> str:
    """The text of a new token of `user`, made by the real service."""
    _, text = token_create(
        user=user,
        name="a script",
        scopes=ALL_SCOPES if scopes is None else scopes,
        expires_at=timezone.now() + timedelta(days=days),
    )
    return text


def client_with(text: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {text}")
    return api


@pytest.fixture
def token_client(user) -> APIClient:
    """An API client that sends an access token of `user` with every scope."""
    return client_with(make_token(user))
