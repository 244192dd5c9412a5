import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from taskapi.accounts.models import TokenFamily
from taskapi.accounts.tokens import FamilyRefreshToken
from tests.conftest import token_pair_for

pytestmark = pytest.mark.django_db


def refresh(http, token: str):
    return http.post("/auth/refresh/", {"refresh": token})


def test_refresh_returns_a_new_pair_that_no_cache_may_store(http, tokens):
    response = refresh(http, tokens.refresh)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != tokens.refresh
    assert response["Cache-Control"] == "no-store"


def test_a_rotated_refresh_token_is_refused(http, tokens):
    refresh(http, tokens.refresh)

    response = refresh(http, tokens.refresh)

    assert response.status_code == 401
    assert response.json()["type"] == "/problems/invalid-token"
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_reusing_a_rotated_token_revokes_its_descendants(http, tokens):
    descendant = refresh(http, tokens.refresh).json()["refresh"]

    refresh(http, tokens.refresh)  # reuse: someone else holds this family too

    assert refresh(http, descendant).status_code == 401


def test_reuse_leaves_the_users_other_logins_alone(http, user, tokens):
    other_login = token_pair_for(user)
    refresh(http, tokens.refresh)
    refresh(http, tokens.refresh)

    assert refresh(http, other_login.refresh).status_code == 200


def test_rotated_refresh_tokens_are_recorded_as_outstanding(http, user, tokens):
    new = refresh(http, tokens.refresh).json()["refresh"]

    jti = FamilyRefreshToken(new)["jti"]
    assert OutstandingToken.objects.filter(jti=jti, user=user).exists()


def test_a_rotated_token_keeps_its_family(http, tokens):
    new = refresh(http, tokens.refresh).json()["refresh"]

    assert FamilyRefreshToken(new)["fam"] == FamilyRefreshToken(tokens.refresh)["fam"]


def test_an_access_token_is_not_a_refresh_token(http, tokens):
    response = refresh(http, tokens.access)

    assert response.status_code == 401
    assert response.json()["type"] == "/problems/invalid-token"


def test_refresh_names_a_missing_refresh_token(http):
    response = http.post("/auth/refresh/", {})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/validation-error"
    assert [error["field"] for error in response.json()["errors"]] == ["refresh"]


def test_garbage_is_refused(http):
    assert refresh(http, "not.a.token").status_code == 401


def test_a_whitespace_only_token_is_an_invalid_token_not_a_missing_one(http):
    response = refresh(http, "\u00a0 ")

    assert response.status_code == 401
    assert response.json()["type"] == "/problems/invalid-token"


def test_a_refresh_token_of_a_revoked_family_is_refused(http, user, tokens):
    TokenFamily.objects.filter(user=user).update(revoked_at="2020-01-01T00:00:00Z")

    assert refresh(http, tokens.refresh).status_code == 401


def test_the_refresh_response_carries_the_current_claims(http, user, tokens):
    body = refresh(http, tokens.refresh).json()

    new = FamilyRefreshToken(body["refresh"])
    assert new["user_id"] == str(user.pk)
    assert new["ver"] == user.token_version
    assert new["token_type"] == "refresh"


def test_refresh_of_a_deleted_user_is_refused(http, user, tokens):
    user.delete()  # straight in the database, bypassing the service's blacklisting

    assert refresh(http, tokens.refresh).status_code == 401


def test_deleting_the_account_blacklists_its_refresh_tokens_for_good(authed, user, tokens):
    from tests.factories import PASSWORD

    authed.delete("/auth/me/", {"password": PASSWORD})

    jti = FamilyRefreshToken(tokens.refresh)["jti"]
    # OutstandingToken.user is set NULL on delete; the blacklist entry must survive that.
    assert BlacklistedToken.objects.filter(token__jti=jti).exists()
    assert refresh(authed, tokens.refresh).status_code == 401
