"""A request for a host this server does not serve gets a 400 problem that says so and names
ALLOWED_HOSTS (issue 25), repeating the host only when it is a plain host name.

The requests go to "/", outside the contract: the answer comes before any route is chosen, so
it is the same on every path (openapi.yaml lists it once, under Errors).
"""

import pytest
from django.core.exceptions import SuspiciousOperation
from django.test import RequestFactory, override_settings

from taskapi.core.hosts import bad_request

PROBLEM = "application/problem+json"
SERVED = "the hosts it serves are listed in its ALLOWED_HOSTS environment variable."


def test_a_host_not_in_allowed_hosts_gets_a_400_problem_that_names_allowed_hosts(client):
    response = client.get("/", HTTP_HOST="wrong.example:8000")

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json() == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": f"This server does not serve the host 'wrong.example:8000': {SERVED}",
    }


@override_settings(SECURE_SSL_REDIRECT=True)
def test_the_https_redirect_asks_for_the_host_first_and_gets_the_same_answer(client):
    response = client.get("/", HTTP_HOST="wrong.example")

    assert response.status_code == 400
    assert response.json()["detail"] == (
        f"This server does not serve the host 'wrong.example': {SERVED}"
    )


@pytest.mark.parametrize(
    "host",
    [
        "<script>alert(1)</script>",  # Django refuses its form before ALLOWED_HOSTS
        "a" * 300 + ".example",  # a plain name, but longer than any real one
        "wrong.example\r\nSet-Cookie: x=1",
    ],
    ids=["markup", "overlong", "header-injection"],
)
def test_a_host_that_is_not_a_plain_host_name_is_not_repeated(client, host):
    response = client.get("/", HTTP_HOST=host)

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    detail = response.json()["detail"]
    assert detail == f"This server does not serve the host this request names: {SERVED}"
    assert host not in response.content.decode()


def test_any_other_bad_request_keeps_the_general_detail():
    request = RequestFactory().get("/")

    response = bad_request(request, SuspiciousOperation("something else"))

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert "ALLOWED_HOSTS" not in response.content.decode()


@pytest.mark.server
def test_uvicorn_answers_a_wrong_host_with_the_same_problem(live_app):
    response = live_app.http.get("/", headers={"Host": "wrong.example"})

    assert response.status_code == 400
    assert response.headers["Content-Type"] == PROBLEM
    assert response.json()["detail"] == (
        f"This server does not serve the host 'wrong.example': {SERVED}"
    )


def test_a_wrong_host_is_logged_as_one_warning_line_without_a_traceback(client, caplog):
    with caplog.at_level("INFO", logger="django.security.DisallowedHost"):
        client.get("/", HTTP_HOST="wrong.example")

    [record] = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert record.levelname == "WARNING"
    assert record.exc_info is None and record.exc_text is None
    assert "wrong.example" in record.getMessage()
