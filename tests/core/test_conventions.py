"""The HTTP conventions every route follows, driven over real requests to a real Uvicorn."""

import json
import socket
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.servers import start_sqlite_app

pytestmark = pytest.mark.server

PROBLEM = "application/problem+json"


def assert_problem(response: requests.Response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str)
    assert "Traceback" not in response.text
    return body


@pytest.fixture(scope="module")
def fault_app(tmp_path_factory):
    server = start_sqlite_app(
        tmp_path_factory.mktemp("fault-app"), DJANGO_SETTINGS_MODULE="tests.support.fault_settings"
    )
    yield server
    server.stop()


def test_unknown_url_is_a_404_problem(live_app):
    assert_problem(live_app.http.get("/no/such/place/"), 404)


def test_missing_trailing_slash_is_a_404_not_a_redirect(live_app):
    response = live_app.http.get("/health", allow_redirects=False)

    assert_problem(response, 404)


def test_wrong_method_is_a_405_problem_with_allow(live_app):
    response = live_app.http.delete("/health/")

    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_non_json_body_is_a_415_problem(live_app):
    response = live_app.http.post(
        "/auth/login/",
        data="email=a@example.com",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert_problem(response, 415)


def test_malformed_json_is_a_400_problem(live_app):
    response = live_app.http.post(
        "/auth/login/",
        data='{"email": ',
        headers={"Content-Type": "application/json"},
    )

    body = assert_problem(response, 400)
    assert body["type"] == "/problems/malformed-request"


def test_validation_error_lists_each_field(live_app):
    response = live_app.http.post("/auth/register/", json={})

    body = assert_problem(response, 400)
    assert body["type"] == "/problems/validation-error"
    fields = {error["field"] for error in body["errors"]}
    assert {"email", "password"} <= fields
    for error in body["errors"]:
        assert set(error) == {"field", "code", "message"}


def test_missing_token_is_a_401_problem_with_a_bearer_challenge(live_app):
    response = live_app.http.get("/tasks/")

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_body_over_one_mebibyte_is_refused_with_413(live_app):
    response = live_app.http.post(
        "/auth/login/",
        data=b"{" + b" " * (1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )

    assert_problem(response, 413)


def test_chunked_body_over_one_mebibyte_is_refused_with_413(live_app):
    def chunks():
        for _ in range(17):
            yield b" " * 65536

    response = live_app.http.post(
        "/auth/login/",
        data=chunks(),
        headers={"Content-Type": "application/json"},
    )

    assert_problem(response, 413)


def test_chunked_body_within_the_limit_is_parsed(live_app):
    def chunks():
        yield b'{"email": "nobody@example.com",'
        yield b' "password": "not-the-password"}'

    response = live_app.http.post(
        "/auth/login/",
        data=chunks(),
        headers={"Content-Type": "application/json"},
    )

    # Parsed as a real login attempt: credentials are checked, not reported missing.
    assert_problem(response, 401)


def test_non_numeric_content_length_is_a_400_problem(live_app):
    host, port = urlsplit(live_app.base_url).hostname, urlsplit(live_app.base_url).port
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(
            b"POST /auth/login/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: 12abc\r\nConnection: close\r\n\r\n{}"
        )
        raw = sock.recv(65536)

    status_line = raw.split(b"\r\n", 1)[0]
    assert status_line.split()[1] == b"400"


def test_permission_denied_from_drf_is_a_403_problem(fault_app):
    assert_problem(fault_app.http.get("/_faults/drf-forbidden/"), 403)


def test_permission_denied_from_django_is_a_403_problem(fault_app):
    assert_problem(fault_app.http.get("/_faults/django-forbidden/"), 403)


def test_database_outage_is_a_503_problem_with_retry_after(fault_app):
    response = fault_app.http.get("/_faults/database-down/")

    assert_problem(response, 503)
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize("url", ["/_faults/bug/", "/_faults-plain/"])
def test_unhandled_error_is_a_bare_500_problem_without_internals(fault_app, url):
    response = fault_app.http.get(url)

    body = assert_problem(response, 500)
    assert "secret internal detail" not in response.text
    assert body["type"] == "about:blank"
    assert "secret internal detail" in fault_app.log()  # the traceback goes to the log


def test_every_response_carries_nosniff_and_a_request_id(live_app):
    for response in (
        live_app.http.get("/health/"),
        live_app.http.get("/nowhere/"),
        live_app.http.post("/auth/login/", data=b"x" * (2 * 1024 * 1024)),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Request-ID"]


def test_a_sane_request_id_is_echoed(live_app):
    response = live_app.http.get("/health/", headers={"X-Request-ID": "abc-123.x_Y"})

    assert response.headers["X-Request-ID"] == "abc-123.x_Y"


@pytest.mark.parametrize("incoming", ["has space", "x" * 129, "semi;colon", "<script>"])
def test_an_unsafe_request_id_is_replaced(live_app, incoming):
    response = live_app.http.get("/health/", headers={"X-Request-ID": incoming})

    assert response.headers["X-Request-ID"] != incoming
    assert len(response.headers["X-Request-ID"]) == 32


def test_the_request_id_is_in_the_requests_log_line(live_app):
    live_app.http.get("/nowhere/", headers={"X-Request-ID": "trace-me-42"})

    lines = [json.loads(line) for line in live_app.log().splitlines() if "trace-me-42" in line]
    assert lines, "no log line carries the request id"
    access = [line for line in lines if line.get("logger") == "taskapi.access"]
    assert access[0]["status"] == 404
    assert access[0]["request_id"] == "trace-me-42"


def test_health_is_exactly_status_ok(live_app):
    response = live_app.http.get("/health/")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}


def test_readiness_reports_the_database(live_app):
    response = live_app.http.get("/health/ready/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


def test_the_contract_is_served_as_yaml(live_app):
    response = live_app.http.get("/openapi.yaml")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/yaml")
    assert response.content == (live_app_contract_bytes())


def live_app_contract_bytes() -> bytes:
    from tests.support.servers import REPO

    return (REPO / "openapi.yaml").read_bytes()


UNSUPPORTED = [
    (method, path)
    for path, allowed in [
        ("/health/", "GET"),
        ("/openapi.yaml", "GET"),
        ("/api/docs/", "GET"),
        ("/auth/login/", "POST"),
    ]
    for method in ("OPTIONS", "PUT", "POST", "DELETE")
    if method != allowed
]


@pytest.mark.parametrize(("method", "path"), UNSUPPORTED)
def test_unsupported_methods_are_405_problems_everywhere(live_app, method, path):
    response = live_app.http.request(method, path)

    assert_problem(response, 405)
    assert response.headers["Allow"]


def test_allow_never_lists_options_which_is_itself_a_405(live_app):
    response = live_app.http.options("/health/")

    assert_problem(response, 405)
    assert "OPTIONS" not in response.headers["Allow"]


def test_a_request_refused_at_the_edge_still_gets_an_access_log_line(live_app):
    # In PostgreSQL mode live_app is the stack, whose nginx refuses the body before the app sees
    # it: talk to one app instance directly.
    app = live_app.apps[0] if hasattr(live_app, "apps") else live_app
    app.http.post(
        "/auth/login/",
        data=b"x" * (2 * 1024 * 1024),
        headers={"X-Request-ID": "edge-413-trace", "Content-Type": "application/json"},
    )

    lines = [json.loads(line) for line in app.log().splitlines() if "edge-413-trace" in line]
    access = [line for line in lines if line.get("logger") == "taskapi.access"]
    assert access[0]["status"] == 413
    assert access[0]["route"] == "auth/login/"
