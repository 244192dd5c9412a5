import pytest

from tests.factories import UserFactory


@pytest.fixture
def other_user(db):
    return UserFactory()
