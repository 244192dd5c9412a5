import pytest
from django.test import override_settings

from tests.accounts import hashers
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_login_returns_a_token_pair_that_no_cache_may_store(http, user):
    response = http.post("/auth/login/", {"email": user.email, "password": PASSWORD})

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    assert response["Cache-Control"] == "no-store"


def test_login_email_is_case_insensitive(http):
    UserFactory(email="mixed@example.com")

    response = http.post("/auth/login/", {"email": "  MiXeD@Example.com", "password": PASSWORD})

    assert response.status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_401(http, user):
    wrong_password = http.post("/auth/login/", {"email": user.email, "password": "nope-nope-1"})
    unknown_email = http.post(
        "/auth/login/", {"email": "ghost@example.com", "password": "nope-nope-1"}
    )

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert wrong_password.json()["type"] == "/problems/invalid-credentials"
    assert wrong_password["Content-Type"] == "application/problem+json"


def test_unknown_email_costs_the_same_hashing_as_a_wrong_password(http, user):
    with override_settings(PASSWORD_HASHERS=["tests.accounts.hashers.CountingHasher"]):
        user.set_password(PASSWORD)
        user.save()
        hashers.CountingHasher.calls = 0
        http.post("/auth/login/", {"email": user.email, "password": "nope-nope-1"})
        for_wrong_password = hashers.CountingHasher.calls
        hashers.CountingHasher.calls = 0
        http.post("/auth/login/", {"email": "ghost@example.com", "password": "nope-nope-1"})
        for_unknown_email = hashers.CountingHasher.calls

    assert for_wrong_password == for_unknown_email == 1


def test_inactive_user_cannot_log_in(http):
    user = UserFactory(is_active=False)

    response = http.post("/auth/login/", {"email": user.email, "password": PASSWORD})

    assert response.status_code == 401


def test_login_names_every_missing_field(http):
    response = http.post("/auth/login/", {})

    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"email", "password"}
