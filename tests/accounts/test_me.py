import pytest

from taskapi.accounts.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_me_shows_the_caller(authed, user):
    response = authed.get("/auth/me/")

    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "email": user.email,
        "date_joined": user.date_joined.isoformat().replace("+00:00", "Z"),
    }


def test_me_needs_a_token(http):
    response = http.get("/auth/me/")

    assert response.status_code == 401
    assert response.json()["type"] == "/problems/not-authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_deleting_the_account_removes_it(authed, user):
    response = authed.delete("/auth/me/", {"password": PASSWORD})

    assert response.status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()


def test_deleting_the_account_ends_its_access_token_at_once(authed):
    authed.delete("/auth/me/", {"password": PASSWORD})

    response = authed.get("/auth/me/")

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_deleting_the_account_needs_a_token(http, user):
    response = http.delete("/auth/me/", {"password": PASSWORD})

    assert response.status_code == 401
    assert response.json()["type"] == "/problems/not-authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert User.objects.filter(pk=user.pk).exists()


def test_deleting_the_account_needs_the_password(authed, user):
    response = authed.delete("/auth/me/", {"password": "not-my-password"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "password"
    assert User.objects.filter(pk=user.pk).exists()


def test_deleting_the_account_names_a_missing_password(authed):
    response = authed.delete("/auth/me/", {})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "password"


def test_an_account_deleted_behind_the_caches_back_is_a_401_not_a_500(authed, user):
    # The token version is cached; the row vanishes without the service (admin, a cascade).
    User.objects.filter(pk=user.pk).delete()

    assert authed.get("/auth/me/").status_code == 401
