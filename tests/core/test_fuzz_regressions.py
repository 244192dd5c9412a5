"""Every failure the contract fuzzing ever found, replayed exactly, for good.

Each test names what found it. Bodies are written as raw bytes, so the case is the one that went
over the wire and not what a test client would make of a Python value. The suite runs on SQLite
and again on PostgreSQL (`make test-postgres`), where these shapes once behaved differently.
"""

import json

import pytest
from rest_framework.test import APIClient

from taskapi.accounts.models import User
from taskapi.core.parsers import MAX_DEPTH
from tests.conftest import token_pair_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
PASSWORD = "a-long-and-unusual-passphrase-42"


def send(client: APIClient, method: str, path: str, body: bytes):
    return client.generic(method, path, body, content_type="application/json")


def assert_problem(response, status: int, type_: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["status"], body["type"]) == (status, type_)
    return body


# Schemathesis, seeds other than the fixed one, SQLite and PostgreSQL: a NUL in a refresh token
# was a 400 `null_characters_not_allowed`; the contract says any string is a token or a 401.
def test_a_refresh_token_with_a_nul_character_is_an_invalid_token(client):
    response = send(client, "POST", "/auth/refresh/", b'{"refresh": "\\u0000x"}')

    assert_problem(response, 401, "/problems/invalid-token")


def test_logging_out_a_refresh_token_with_a_nul_character_is_an_invalid_token(api_client):
    response = send(api_client, "POST", "/auth/logout/", b'{"refresh": "\\u0000x"}')

    assert_problem(response, 401, "/problems/invalid-token")


def test_a_nul_character_inside_a_real_refresh_token_is_refused(client, user):
    token = token_pair_for(user).refresh
    body = json.dumps({"refresh": token[:20] + "\x00" + token[20:]}).encode()

    assert_problem(send(client, "POST", "/auth/refresh/", body), 401, "/problems/invalid-token")
    # The real token was not used up by the refusal.
    assert (
        send(client, "POST", "/auth/refresh/", json.dumps({"refresh": token}).encode()).status_code
        == 200
    )


# Schemathesis ST201 (positive data refused): a JSON number was read as a string, so
# `"password": 1.2345678e30` created an account whose password was "1.2345678e+30".
def test_a_number_as_the_password_creates_no_account(client):
    body = b'{"email": "number@example.com", "password": 1.2345678e30}'

    problem = assert_problem(
        send(client, "POST", "/auth/register/", body), 400, "/problems/validation-error"
    )

    assert problem["errors"] == [
        {"field": "password", "code": "invalid", "message": "Not a valid string."}
    ]
    assert not User.objects.filter(email="number@example.com").exists()


STRING_FIELDS = [
    ("POST", "/auth/register/", {"email": "a@example.com", "password": PASSWORD}, "email"),
    ("POST", "/auth/register/", {"email": "a@example.com", "password": PASSWORD}, "password"),
    ("POST", "/auth/login/", {"email": "a@example.com", "password": PASSWORD}, "email"),
    ("POST", "/auth/login/", {"email": "a@example.com", "password": PASSWORD}, "password"),
    ("POST", "/auth/refresh/", {"refresh": "x"}, "refresh"),
]
AUTHED_STRING_FIELDS = [
    (
        "POST",
        "/auth/password/",
        {"current_password": PASSWORD, "new_password": PASSWORD * 2},
        "current_password",
    ),
    (
        "POST",
        "/auth/password/",
        {"current_password": PASSWORD, "new_password": PASSWORD * 2},
        "new_password",
    ),
    ("DELETE", "/auth/me/", {"password": PASSWORD}, "password"),
    ("POST", "/auth/logout/", {"refresh": "x"}, "refresh"),
]
NOT_STRINGS = [1.2345678e30, 42, True, None, ["x"], {"x": "y"}]


def _with(body: dict, field: str, value: object) -> bytes:
    return json.dumps({**body, field: value}).encode()


@pytest.mark.parametrize("value", NOT_STRINGS, ids=repr)
@pytest.mark.parametrize(("method", "path", "body", "field"), STRING_FIELDS)
def test_every_anonymous_accounts_string_field_refuses_other_json_types(
    client, method, path, body, field, value
):
    response = send(client, method, path, _with(body, field, value))

    problem = assert_problem(response, 400, "/problems/validation-error")
    assert [error["field"] for error in problem["errors"]] == [field]


@pytest.mark.parametrize("value", NOT_STRINGS, ids=repr)
@pytest.mark.parametrize(("method", "path", "body", "field"), AUTHED_STRING_FIELDS)
def test_every_authenticated_accounts_string_field_refuses_other_json_types(
    method, path, body, field, value
):
    user = UserFactory(password=PASSWORD)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_for(user).access}")

    response = send(client, method, path, _with(body, field, value))

    problem = assert_problem(response, 400, "/problems/validation-error")
    assert [error["field"] for error in problem["errors"]] == [field]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# DRF's stdlib JSON parser recursed once per level: 60,000 levels (120 KB) was a RecursionError.
@pytest.mark.parametrize(
    "body",
    [b"[" * 60_000 + b"]" * 60_000, b'{"a":' * 60_000 + b"1" + b"}" * 60_000],
    ids=["arrays", "objects"],
)
def test_a_body_nested_60000_levels_deep_is_a_malformed_request(api_client, body):
    response = send(api_client, "POST", "/tasks/", body)

    assert_problem(response, 400, "/problems/malformed-request")


def test_a_body_nested_just_past_the_limit_is_refused_inside_a_field(api_client):
    title = "[" * MAX_DEPTH + "]" * MAX_DEPTH  # with the body's own object: one level too deep
    body = b'{"title": ' + title.encode() + b"}"

    problem = assert_problem(
        send(api_client, "POST", "/tasks/", body), 400, "/problems/malformed-request"
    )

    assert f"deeper than {MAX_DEPTH} levels" in problem["detail"]


def test_a_body_nested_to_the_limit_reaches_validation(api_client):
    priority = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    body = b'{"title": "t", "priority": ' + priority.encode() + b"}"

    problem = assert_problem(
        send(api_client, "POST", "/tasks/", body), 400, "/problems/validation-error"
    )

    assert [error["field"] for error in problem["errors"]] == ["priority"]


def test_brackets_inside_strings_do_not_count_as_nesting(api_client):
    title = "[" * 100 + "{" * 100

    response = send(api_client, "POST", "/tasks/", json.dumps({"title": title}).encode())

    assert response.status_code == 201, response.content
    assert response.json()["title"] == title


HOSTILE_BODIES = {
    "lone surrogate": b'{"title": "\\ud800"}',
    "NaN": b'{"title": "t", "completed": NaN}',
    "Infinity": b'{"title": "t", "completed": Infinity}',
    "number past a double": b'{"title": "t", "completed": 1e400}',
    "integer past a double": b'{"title": "t", "completed": ' + b"9" * 400 + b"}",
    "byte order mark": b'\xef\xbb\xbf{"title": "t"}',
    "invalid UTF-8": b'{"title": "\xff"}',
    "trailing data": b'{"title": "t"} {}',
}


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_json_that_the_standard_library_would_let_through_is_a_malformed_request(api_client, body):
    response = send(api_client, "POST", "/tasks/", body)

    assert_problem(response, 400, "/problems/malformed-request")


def test_a_nul_character_in_a_task_title_is_a_validation_error_not_a_database_error(api_client):
    response = send(api_client, "POST", "/tasks/", b'{"title": "a\\u0000b"}')

    problem = assert_problem(response, 400, "/problems/validation-error")
    assert problem["errors"][0]["code"] == "null_characters_not_allowed"


def test_an_integer_past_64_bits_where_a_string_belongs_is_a_validation_error(api_client):
    response = send(api_client, "POST", "/tasks/", b'{"title": ' + b"9" * 30 + b"}")

    problem = assert_problem(response, 400, "/problems/validation-error")
    assert [error["field"] for error in problem["errors"]] == ["title"]


# Schemathesis (seed 499584374, SQLite): POST /projects/ with the name "\u001f" was a 400
# `blank`. The contract's pattern reads `\s` as JSON Schema does, which leaves U+001F out;
# Python's str.strip() took it for whitespace. Names, titles and labels trim what `\s` means.
@pytest.mark.parametrize(
    ("path", "field"), [("/projects/", "name"), ("/labels/", "name"), ("/tasks/", "title")]
)
def test_a_name_of_a_control_character_the_contract_allows_is_kept(api_client, path, field):
    response = send(api_client, "POST", path, json.dumps({field: " \u001f\u00a0"}).encode())

    assert response.status_code == 201, response.content
    assert response.json()[field] == "\u001f"


@pytest.mark.parametrize(
    ("path", "field"), [("/projects/", "name"), ("/labels/", "name"), ("/tasks/", "title")]
)
def test_a_name_of_only_json_schema_whitespace_is_blank(api_client, path, field):
    response = send(api_client, "POST", path, json.dumps({field: " \u00a0\u3000\t"}).encode())

    body = assert_problem(response, 400, "/problems/validation-error")
    assert [error["field"] for error in body["errors"]] == [field]
