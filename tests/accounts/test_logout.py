import pytest

from tests.conftest import token_pair_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_logout_revokes_the_refresh_token(authed, tokens):
    response = authed.post("/auth/logout/", {"refresh": tokens.refresh})

    assert response.status_code == 204
    assert authed.post("/auth/refresh/", {"refresh": tokens.refresh}).status_code == 401


def test_logout_revokes_the_tokens_rotated_from_the_same_login(authed, tokens):
    rotated = authed.post("/auth/refresh/", {"refresh": tokens.refresh}).json()["refresh"]

    authed.post("/auth/logout/", {"refresh": rotated})

    assert authed.post("/auth/refresh/", {"refresh": rotated}).status_code == 401


def test_logout_cannot_revoke_another_users_token(authed):
    victim = token_pair_for(UserFactory())

    response = authed.post("/auth/logout/", {"refresh": victim.refresh})

    assert response.status_code == 401
    assert response.json()["type"] == "/problems/invalid-token"
    assert authed.post("/auth/refresh/", {"refresh": victim.refresh}).status_code == 200


def test_logout_needs_an_access_token(http, tokens):
    response = http.post("/auth/logout/", {"refresh": tokens.refresh})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_logout_refuses_an_access_token_in_place_of_the_refresh_token(authed, tokens):
    assert authed.post("/auth/logout/", {"refresh": tokens.access}).status_code == 401


def test_logout_names_a_missing_refresh_token(authed):
    response = authed.post("/auth/logout/", {})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "refresh"
