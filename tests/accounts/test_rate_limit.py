import pytest
from django.test import override_settings

from taskapi.accounts import throttling
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NOW = 1_800_000_010.0  # 10 s into a one-minute window


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    # A real clock could cross a window boundary mid-test and reset the count.
    monkeypatch.setattr(throttling.time, "time", lambda: NOW)


def login(client, **extra):
    return client.post(
        "/auth/login/", {"email": "x@example.com", "password": "wrong-1234"}, **extra
    )


@override_settings(AUTH_RATE_LIMIT="2/minute")
def test_the_request_over_the_limit_is_a_429_with_retry_after(http):
    login(http)
    login(http)

    response = login(http)

    assert response.status_code == 429
    assert response.json()["type"] == "/problems/rate-limited"
    assert response["Retry-After"] == "50"


@override_settings(AUTH_RATE_LIMIT="2/minute")
def test_register_is_limited_too(http):
    for _ in range(2):
        http.post("/auth/register/", {})

    assert http.post("/auth/register/", {}).status_code == 429


@override_settings(AUTH_RATE_LIMIT="3/minute")
def test_limited_routes_say_how_much_is_left(http, user):
    response = http.post("/auth/login/", {"email": user.email, "password": PASSWORD})

    assert response.status_code == 200
    assert response["RateLimit-Limit"] == "3"
    assert response["RateLimit-Remaining"] == "2"
    assert response["RateLimit-Reset"] == "50"


@override_settings(AUTH_RATE_LIMIT="1/minute")
def test_the_429_carries_the_rate_limit_headers(http):
    login(http)

    response = login(http)

    assert response["RateLimit-Remaining"] == "0"


@override_settings(AUTH_RATE_LIMIT="1/minute")
def test_each_client_address_has_its_own_limit(http):
    login(http, REMOTE_ADDR="192.0.2.1")

    assert login(http, REMOTE_ADDR="192.0.2.2").status_code == 401


@override_settings(AUTH_RATE_LIMIT="1/minute")
def test_the_next_window_starts_afresh(http, monkeypatch):
    login(http)
    monkeypatch.setattr(throttling.time, "time", lambda: NOW + 60)

    assert login(http).status_code == 401


@override_settings(AUTH_RATE_LIMIT="1/minute", TRUSTED_PROXIES=[])
def test_forwarded_for_from_an_untrusted_peer_cannot_dodge_the_limit(http):
    login(http, HTTP_X_FORWARDED_FOR="203.0.113.1")

    assert login(http, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 429


@override_settings(AUTH_RATE_LIMIT="1/minute", TRUSTED_PROXIES=["127.0.0.1"])
def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(http):
    login(http, HTTP_X_FORWARDED_FOR="203.0.113.1")

    assert login(http, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 401


@override_settings(AUTH_RATE_LIMIT="1/minute")
def test_refresh_is_not_rate_limited(http):
    http.post("/auth/refresh/", {"refresh": "x"})

    response = http.post("/auth/refresh/", {"refresh": "x"})

    assert response.status_code == 401
    assert "RateLimit-Limit" not in response
