"""Access-token attacks, each forged here, and the cost of a good token."""

import base64
import json
import time

import jwt
import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIRequestFactory

from taskapi.accounts.authentication import AccessTokenAuthentication
from taskapi.accounts.tokens import AccessToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    return AccessToken(token).payload


def sign(claims: dict, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or settings.SIMPLE_JWT["SIGNING_KEY"], algorithm=algorithm)


def get_me(http, token: str):
    return http.get("/auth/me/", HTTP_AUTHORIZATION=f"Bearer {token}")


def assert_invalid_token(response) -> None:
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/not-authenticated"
    assert response["WWW-Authenticate"].startswith('Bearer realm="api", error="invalid_token"')


def test_a_valid_access_token_authenticates(http, tokens):
    assert get_me(http, tokens.access).status_code == 200


def test_access_tokens_carry_the_registered_claims(tokens, user):
    claims = claims_of(tokens.access)

    assert {"exp", "iat", "jti"} <= set(claims)
    assert claims["token_type"] == "access"
    assert claims["ver"] == user.token_version
    assert "fam" not in claims


def test_alg_none_is_refused(http, tokens):
    header = b64({"alg": "none", "typ": "JWT"})
    forged = f"{header}.{b64(claims_of(tokens.access))}."

    assert_invalid_token(get_me(http, forged))


def test_a_tampered_payload_is_refused(http, tokens):
    other = UserFactory()
    header, _payload, signature = tokens.access.split(".")
    claims = {**claims_of(tokens.access), "user_id": str(other.pk)}

    assert_invalid_token(get_me(http, f"{header}.{b64(claims)}.{signature}"))


def test_an_expired_token_is_refused(http, tokens):
    past = int(time.time()) - 60
    expired = sign({**claims_of(tokens.access), "iat": past - 300, "exp": past})

    response = get_me(http, expired)

    assert_invalid_token(response)
    assert "expired" in response["WWW-Authenticate"]


def test_a_token_signed_with_another_key_is_refused(http, tokens):
    forged = sign(claims_of(tokens.access), key="someone-elses-key-" * 4)

    assert_invalid_token(get_me(http, forged))


def test_a_token_signed_with_another_algorithm_is_refused(http, tokens):
    # Right key, but the algorithm is pinned server-side: the header's "alg" is not obeyed.
    forged = sign(claims_of(tokens.access), algorithm="HS512")

    assert_invalid_token(get_me(http, forged))


def test_a_refresh_token_is_not_an_access_token(http, tokens):
    assert_invalid_token(get_me(http, tokens.refresh))


def test_a_token_without_a_version_is_refused(http, tokens):
    claims = claims_of(tokens.access)
    del claims["ver"]

    assert_invalid_token(get_me(http, sign(claims)))


def test_a_token_of_an_unknown_user_is_refused_not_a_500(http, tokens):
    forged = sign({**claims_of(tokens.access), "user_id": "999999999"})

    assert_invalid_token(get_me(http, forged))


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Token abc", "Bearer not-a-jwt"])
def test_a_malformed_authorization_header_is_refused(http, header):
    assert_invalid_token(http.get("/auth/me/", HTTP_AUTHORIZATION=header))


def test_with_a_warm_cache_authentication_reads_no_database(tokens, django_assert_num_queries):
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {tokens.access}")
    authentication = AccessTokenAuthentication()
    authentication.authenticate(request)  # warms the cache

    with django_assert_num_queries(0):
        principal, _token = authentication.authenticate(request)

    assert principal.is_authenticated


def test_a_cold_cache_costs_one_query(tokens, django_assert_num_queries):
    cache.clear()
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {tokens.access}")

    with django_assert_num_queries(1):
        AccessTokenAuthentication().authenticate(request)


def test_the_authenticated_principal_is_the_token_user(tokens, user):
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {tokens.access}")

    principal, _token = AccessTokenAuthentication().authenticate(request)

    assert (principal.id, principal.pk) == (user.pk, user.pk)


def authenticate(access: str):
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {access}")
    return AccessTokenAuthentication().authenticate(request)


def test_the_access_token_of_a_deleted_account_is_refused_by_authentication(user, tokens):
    from taskapi.accounts.services import user_delete
    from tests.factories import PASSWORD

    authenticate(tokens.access)  # the cache now says the user exists
    user_delete(user=user, password=PASSWORD)

    with pytest.raises(AuthenticationFailed):
        authenticate(tokens.access)


def test_a_cache_outage_falls_back_to_the_database(tokens, monkeypatch):
    def unavailable(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", unavailable)
    monkeypatch.setattr(cache, "add", unavailable)

    principal, _token = authenticate(tokens.access)

    assert principal.is_authenticated


def test_a_user_id_beyond_64_bits_is_refused_not_a_500(http, tokens):
    forged = sign({**claims_of(tokens.access), "user_id": str(2**64)})

    assert_invalid_token(get_me(http, forged))
