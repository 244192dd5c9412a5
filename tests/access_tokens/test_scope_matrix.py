"""Every operation of the contract x a token with each single scope, with all of them, an
expired one and a revoked one, over HTTP. What each must get comes from the contract's
`security` (scopes.py reads the same): a scope the operation lists lets the request reach the
view (whatever it then answers: the ids here name nothing); any other is the 403 of
insufficient_scope; an expired or revoked token is the 401 of invalid_token."""

from datetime import timedelta

import pytest
import yaml
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from taskapi.access_tokens.models import PersonalAccessToken, Scope
from taskapi.access_tokens.scopes import alternatives_of, needed
from tests.access_tokens.conftest import ALL_SCOPES, client_with, make_token

pytestmark = pytest.mark.django_db

MISSING_ID = 10**12
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def _operations():
    document = yaml.safe_load(settings.CONTRACT_PATH.read_text())
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None or operation.get("x-permission") == "public":
                continue
            url = path
            for parameter in ("{id}", "{user_id}", "{invitation_id}"):
                url = url.replace(parameter, str(MISSING_ID))
            yield pytest.param(
                method, url, alternatives_of(operation, document), id=operation["operationId"]
            )


OPERATIONS = list(_operations())


def _send(api, method: str, url: str):
    if method in ("post", "put", "patch"):
        return getattr(api, method)(url, {}, format="json")
    return getattr(api, method)(url)


def _is_scope_refusal(response) -> bool:
    return response.status_code == 403 and 'error="insufficient_scope"' in response.get(
        "WWW-Authenticate", ""
    )


@pytest.mark.parametrize(("method", "url", "alternatives"), OPERATIONS)
def test_each_single_scope_and_all_scopes_get_what_the_contract_lists(
    user, method, url, alternatives
):
    for scopes in [[scope] for scope in ALL_SCOPES] + [ALL_SCOPES]:
        cache.clear()  # the rate limits: this test sends many requests with one user's tokens
        response = _send(client_with(make_token(user, scopes)), method, url)
        allowed = any(alternative <= set(scopes) for alternative in alternatives)
        if allowed:
            assert response.status_code != 401, (scopes, response.content)
            assert not _is_scope_refusal(response), (scopes, response.content)
            assert response.status_code < 500, (scopes, response.content)
        else:
            assert _is_scope_refusal(response), (scopes, response.status_code, response.content)
            problem = response.json()
            assert problem["type"] == "/problems/permission-denied"
            wanted = needed(alternatives)
            assert problem["permission"] == (wanted or "session")
            assert problem.get("scope") == wanted
            if wanted:
                assert f'scope="{wanted}"' in response["WWW-Authenticate"]
        PersonalAccessToken.objects.filter(user=user).delete()  # the 50-token limit


@pytest.mark.parametrize(("method", "url", "alternatives"), OPERATIONS)
def test_an_expired_or_revoked_token_is_refused_everywhere_as_invalid(
    user, api_client, method, url, alternatives, django_capture_on_commit_callbacks
):
    expired = make_token(user)
    PersonalAccessToken.objects.filter(user=user).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    revoked = make_token(user)
    client_with(revoked).get("/auth/me/")  # cached while live
    token_id = PersonalAccessToken.objects.get(user=user, expires_at__gt=timezone.now()).pk
    with django_capture_on_commit_callbacks(execute=True):  # as the server's commit does
        assert api_client.delete(f"/auth/tokens/{token_id}/").status_code == 204

    for text in (expired, revoked):
        response = _send(client_with(text), method, url)

        assert response.status_code == 401, response.content
        assert 'error="invalid_token"' in response["WWW-Authenticate"]
        assert response.json()["type"] == "/problems/not-authenticated"


@pytest.mark.parametrize(
    ("method", "url", "alternatives"), [case for case in OPERATIONS if case.values[2]]
)
@override_settings(ACCESS_TOKEN_RATE_LIMIT="2/minute")
def test_every_operation_a_token_may_call_holds_it_to_its_rate_limit(
    user, method, url, alternatives
):
    api = client_with(make_token(user))

    statuses = [_send(api, method, url).status_code for _ in range(3)]

    assert statuses[2] == 429 and 429 not in statuses[:2], statuses
    response = _send(api, method, url)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert response.json()["type"] == "/problems/rate-limited"


def test_the_matrix_covers_every_scope_and_every_operation_that_needs_a_login():
    scopes_named = {scope for case in OPERATIONS for alt in case.values[2] for scope in alt}

    assert scopes_named == {scope.value for scope in Scope}
    assert len(OPERATIONS) >= 48
