import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW = "another-long-passphrase"


def change(client, current=PASSWORD, new=NEW):
    return client.post("/auth/password/", {"current_password": current, "new_password": new})


def login(client, email, password):
    return client.post("/auth/login/", {"email": email, "password": password})


def test_change_password_answers_204(authed):
    assert change(authed).status_code == 204


def test_after_the_change_only_the_new_password_logs_in(authed, http, user):
    change(authed)

    assert login(http, user.email, PASSWORD).status_code == 401
    assert login(http, user.email, NEW).status_code == 200


def test_after_the_change_earlier_refresh_tokens_are_refused(authed, tokens):
    change(authed)

    assert authed.post("/auth/refresh/", {"refresh": tokens.refresh}).status_code == 401


def test_after_the_change_earlier_access_tokens_are_refused(authed):
    change(authed)

    assert authed.get("/auth/me/").status_code == 401


def test_after_the_change_a_new_login_works(authed, http, user):
    change(authed)
    access = login(http, user.email, NEW).json()["access"]

    http.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert http.get("/auth/me/").status_code == 200


def test_a_wrong_current_password_is_a_400_on_current_password(authed):
    response = change(authed, current="not-my-password")

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["current_password"]


def test_a_weak_new_password_is_a_400_on_new_password(authed, http, user):
    response = change(authed, new="12345678")

    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"new_password"}
    assert login(http, user.email, PASSWORD).status_code == 200


def test_change_password_needs_a_token(http):
    assert change(http).status_code == 401


def test_a_cache_outage_does_not_fail_a_committed_change(authed, http, user, monkeypatch):
    from django.core.cache import cache

    def unavailable(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "set", unavailable)

    assert change(authed).status_code == 204
    assert login(http, user.email, NEW).status_code == 200
