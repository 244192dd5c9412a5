"""Personal access tokens over HTTP: made with a login and shown once, used as a Bearer
credential within their scopes and their user's roles, and ended by expiry, deletion, a
password change or the account's deletion."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from taskapi.access_tokens import usage
from taskapi.access_tokens.models import MAX_TOKENS_PER_USER, PersonalAccessToken
from taskapi.access_tokens.secrets import mint, parse
from tests.access_tokens.conftest import client_with, make_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r"cta_pat_[0-9A-Za-z]{61}")


def _expiry(days: int = 30) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def _create(api_client, **fields):
    body = {"name": "backup", "scopes": ["tasks:read"], "expires_at": _expiry(), **fields}
    return api_client.post("/auth/tokens/", body, format="json")


def test_a_token_is_shown_once_and_only_its_hash_is_kept(api_client):
    response = _create(api_client)

    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert TOKEN.fullmatch(body["token"])
    assert response["Location"] == f"/auth/tokens/{body['id']}/"
    assert body["token"].startswith(body["prefix"])
    listed = api_client.get("/auth/tokens/").json()["results"]
    assert [token["id"] for token in listed] == [body["id"]]
    assert "token" not in listed[0]
    assert "token" not in api_client.get(f"/auth/tokens/{body['id']}/").json()
    row = PersonalAccessToken.objects.get(pk=body["id"])
    secret = parse(body["token"])[1]
    assert secret not in str(row.__dict__)


def test_a_token_authenticates_within_its_scopes(api_client):
    text = _create(api_client, scopes=["tasks:read"]).json()["token"]
    script = client_with(text)

    assert script.get("/tasks/").status_code == 200
    refused = script.post("/tasks/", {"title": "from a script"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["scope"] == "tasks:write"
    assert refused["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", error_description="This access '
        'token lacks the scope tasks:write.", scope="tasks:write"'
    )


def test_a_write_scope_also_reads(user):
    script = client_with(make_token(user, ["tasks:write"]))

    assert script.post("/tasks/", {"title": "from a script"}, format="json").status_code == 201
    assert script.get("/tasks/").status_code == 200


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/auth/tokens/"),
        ("get", "/auth/tokens/"),
        ("post", "/auth/password/"),
        ("post", "/auth/logout/"),
        ("delete", "/auth/me/"),
    ],
)
def test_no_token_manages_credentials(token_client, method, url):
    response = getattr(token_client, method)(url, {}, format="json")

    assert response.status_code == 403
    assert response.json()["permission"] == "session"
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_a_typo_is_refused_by_the_checksum_without_a_lookup(user):
    text = make_token(user)
    typo = text[:30] + ("A" if text[30] != "A" else "B") + text[31:]
    script = client_with(typo)

    with CaptureQueriesContext(connection) as queries:
        response = script.get("/auth/me/")

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert not [query for query in queries if "access_tokens" in query["sql"]]


def test_a_well_formed_token_that_was_never_issued_is_invalid(user):
    response = client_with(mint().text).get("/auth/me/")

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_after_its_first_use_a_token_reads_no_token_row(user):
    script = client_with(make_token(user))
    assert script.get("/labels/").status_code == 200

    with CaptureQueriesContext(connection) as queries:
        assert script.get("/labels/").status_code == 200

    assert not [query for query in queries if "access_tokens" in query["sql"]], (
        queries.captured_queries
    )


def test_last_used_at_is_written_at_most_once_a_minute(user, monkeypatch):
    monkeypatch.setattr(usage, "_written", {})  # ids come round again in a rolled-back database
    script = client_with(make_token(user))
    token = PersonalAccessToken.objects.get(user=user)
    assert token.last_used_at is None

    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert script.get("/labels/").status_code == 200
    writes = [query for query in queries if "last_used_at" in query["sql"]]

    assert len(writes) == 1
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    # A minute later (this process's clock, and the cache key's expiry), one more write.
    monkeypatch.setattr(usage, "_written", {token.pk: usage.time.monotonic() - usage.INTERVAL})
    from django.core.cache import cache

    cache.delete(f"patused:{token.pk}")
    assert script.get("/labels/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > first


def test_an_expired_token_is_refused(user):
    text = make_token(user)
    PersonalAccessToken.objects.filter(user=user).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = client_with(text).get("/auth/me/")

    assert response.status_code == 401
    assert "expired" in response["WWW-Authenticate"]


def test_deleting_a_token_ends_it_at_once(api_client, django_capture_on_commit_callbacks):
    body = _create(api_client).json()
    script = client_with(body["token"])
    assert script.get("/tasks/").status_code == 200  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.delete(f"/auth/tokens/{body['id']}/").status_code == 204

    assert script.get("/tasks/").status_code == 401
    assert api_client.get(f"/auth/tokens/{body['id']}/").status_code == 404


def test_a_password_change_ends_every_token(api_client, user, django_capture_on_commit_callbacks):
    user.set_password("old-password-1843")
    user.save()
    scripts = [client_with(make_token(user)) for _ in range(2)]
    for script in scripts:
        assert script.get("/tasks/").status_code == 200  # cached

    with django_capture_on_commit_callbacks(execute=True):
        changed = api_client.post(
            "/auth/password/",
            {"current_password": "old-password-1843", "new_password": "a-new-one-2026!"},
            format="json",
        )

    assert changed.status_code == 204, changed.content
    assert [script.get("/tasks/").status_code for script in scripts] == [401, 401]
    assert not PersonalAccessToken.objects.filter(user=user).exists()


def test_a_token_made_before_a_password_change_fails_even_with_its_row_left(user):
    text = make_token(user)
    # The version alone (as if the rows' deletion had not happened): lookup.py compares it.
    type(user).objects.filter(pk=user.pk).update(token_version=user.token_version + 1)

    assert client_with(text).get("/tasks/").status_code == 401


def test_deleting_the_account_ends_its_tokens(api_client, user, django_capture_on_commit_callbacks):
    user.set_password("old-password-1843")
    user.save()
    script = client_with(make_token(user))
    assert script.get("/tasks/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        deleted = api_client.delete("/auth/me/", {"password": "old-password-1843"}, format="json")

    assert deleted.status_code == 204, deleted.content
    assert script.get("/tasks/").status_code == 401
    assert not PersonalAccessToken.objects.exists()


def test_another_users_token_answers_like_a_missing_one(api_client):
    other = UserFactory()
    make_token(other)
    theirs = PersonalAccessToken.objects.get(user=other).pk

    for method in ("get", "delete"):
        response = getattr(api_client, method)(f"/auth/tokens/{theirs}/")
        missing = getattr(api_client, method)(f"/auth/tokens/{theirs + 1000}/")
        assert response.status_code == missing.status_code == 404
        assert response.content == missing.content
    assert PersonalAccessToken.objects.filter(pk=theirs).exists()


def test_a_user_has_at_most_fifty_tokens(api_client, user):
    for _ in range(MAX_TOKENS_PER_USER):
        make_token(user)

    response = _create(api_client)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": None,
            "code": "limit",
            "message": "You have the most access tokens allowed (50). Delete one first.",
        }
    ]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"expires_at": None}, "expires_at"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "2099-01-01T00:00:00Z"}, "expires_at"),
        ({"scopes": []}, "scopes"),
        ({"scopes": ["tasks:delete"]}, "scopes"),
        ({"scopes": [1]}, "scopes"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 101}, "name"),
    ],
)
def test_a_token_needs_a_name_scopes_and_an_expiry_within_366_days(api_client, fields, field):
    response = _create(api_client, **fields)

    assert response.status_code == 400, response.content
    assert {error["field"].split(".")[0].split("[")[0] for error in response.json()["errors"]} == {
        field
    }


def test_a_token_never_does_more_than_its_users_role(api_client, user):
    from taskapi.projects.models import Membership, Project, Role

    owner = UserFactory()
    project = Project.objects.create(owner=owner, name="shared")
    Membership.objects.create(project=project, user=owner, role=Role.OWNER)
    Membership.objects.create(project=project, user=user, role=Role.VIEWER)
    script = client_with(make_token(user, ["tasks:write"]))

    response = script.post("/tasks/", {"title": "x", "project_id": project.pk}, format="json")

    assert response.status_code == 403
    assert response.json()["permission"] == "task:write"
    assert "scope" not in response.json()


def test_a_users_tokens_share_one_rate_limit_and_a_login_is_not_counted(user, api_client):
    from django.test import override_settings

    first, second = client_with(make_token(user)), client_with(make_token(user))

    with override_settings(ACCESS_TOKEN_USER_RATE_LIMIT="2/minute"):
        statuses = [
            first.get("/labels/").status_code,
            second.get("/labels/").status_code,
            second.get("/labels/").status_code,
        ]
        login = api_client.get("/labels/").status_code

    assert statuses == [200, 200, 429]
    assert login == 200
