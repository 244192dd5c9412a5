from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def light_client(user) -> APIClient:
    """Logged in as `user`, but request.user is only an id, like the access-token user.

    Proves the views never need the User row (and never query it).
    """
    api = APIClient()
    api.force_authenticate(
        user=SimpleNamespace(id=user.id, pk=user.id, is_authenticated=True, is_anonymous=False)
    )
    return api
