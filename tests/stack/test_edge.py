"""nginx in front of two instances: what the public side shows, logs and hides."""

import json
import re
import socket
import ssl

import pytest
import requests

PROBLEM = "application/problem+json"


def test_requests_through_nginx_reach_the_app(stack):
    response = stack.http.get("/health/ready/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


def test_both_instances_serve_traffic(stack):
    for n in range(6):
        assert (
            stack.http.get("/health/", headers={"X-Request-ID": f"spread-{n}"}).status_code == 200
        )

    stack.nginx.access_log_with("spread-5")
    upstreams = {json.loads(line)["upstream"] for line in stack.nginx.access_log()}
    assert {f"127.0.0.1:{app.port}" for app in stack.apps} <= upstreams


def test_plain_http_is_redirected_to_https(stack):
    response = requests.get(
        f"http://127.0.0.1:{stack.nginx.http_port}/health/", allow_redirects=False, timeout=5
    )

    assert response.status_code == 301
    assert response.headers["Location"].startswith("https://127.0.0.1")


def test_the_app_sees_https_from_the_proxy_and_not_from_direct_callers(stack):
    # SECURE_HSTS_SECONDS is set: Django sends HSTS only on requests it considers secure.
    via_nginx = stack.http.get("/health/")
    direct = stack.apps[0].http.get("/health/")

    assert via_nginx.headers["Strict-Transport-Security"].startswith("max-age=60")
    assert "Strict-Transport-Security" not in direct.headers


@pytest.mark.parametrize(
    "path", ["/metrics", "/metrics/", "/metrics?format=x", "/%6detrics", "/health/../metrics"]
)
def test_metrics_are_not_exposed_publicly(stack, path):
    response = stack.http.get(path)

    assert response.status_code == 404
    assert response.headers["Content-Type"] == PROBLEM
    assert "django_http" not in response.text


def test_each_instance_exports_request_counts_by_route_and_status(stack):
    app = stack.apps[0]
    for _ in range(3):
        app.http.get("/health/")
    app.http.get("/tasks/")  # 401

    metrics = app.http.get("/metrics").text

    assert _sample(metrics, "django_http_responses_total_by_status_view_method_total",
                   status="200", view="healthLive", method="GET") >= 3  # fmt: skip
    assert _sample(metrics, "django_http_responses_total_by_status_view_method_total",
                   status="401", view="taskList", method="GET") >= 1  # fmt: skip
    assert _sample(metrics, "django_http_requests_latency_seconds_by_view_method_count",
                   view="healthLive", method="GET") >= 3  # fmt: skip
    assert "django_db_execute_total" in metrics
    assert "django_db_query_duration_seconds_bucket" in metrics


def _sample(metrics: str, name: str, **labels: str) -> float:
    for line in metrics.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} ([0-9.e+]+)", line)
        if match and all(f'{k}="{v}"' in match[1] for k, v in labels.items()):
            return float(match[2])
    return 0.0


def test_a_body_over_one_mebibyte_is_refused_by_nginx_as_a_problem(stack):
    response = stack.http.post(
        "/auth/login/", data=b"{" + b" " * (1024 * 1024) + b"}", headers={"X-Request-ID": "big-1"}
    )

    assert response.status_code == 413
    assert response.headers["Content-Type"] == PROBLEM
    assert response.json()["status"] == 413
    assert response.headers["X-Request-ID"] == "big-1"
    assert not any("big-1" in line for line in stack.log().splitlines())  # never reached the app


def test_a_body_of_exactly_one_mebibyte_reaches_the_app(stack):
    body = b'{"email": "x@example.com", "password": "y"}'
    body += b" " * (1024 * 1024 - len(body))

    response = stack.http.post(
        "/auth/login/", data=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 401  # parsed and checked by the app, not refused by size


def test_no_upstream_internals_leak(stack):
    response = stack.http.get("/no/such/page/")

    assert response.status_code == 404
    assert response.headers["Server"] == "nginx"  # no version, no "uvicorn"
    for app in stack.apps:
        assert str(app.port) not in response.text
        assert str(app.port) not in json.dumps(dict(response.headers))


def test_one_request_id_in_the_nginx_and_app_logs(stack):
    response = stack.http.get("/tasks/", headers={"X-Request-ID": "edge-trace-7"})

    assert response.headers["X-Request-ID"] == "edge-trace-7"
    edge = [json.loads(line) for line in stack.nginx.access_log_with("edge-trace-7")]
    app = [
        json.loads(line)
        for line in stack.log().splitlines()
        if "edge-trace-7" in line and '"taskapi.access"' in line
    ]
    assert edge[0]["status"] == 401 and edge[0]["uri"] == "/tasks/"
    assert app[0]["status"] == 401


def test_nginx_makes_a_request_id_when_none_is_sane(stack):
    response = stack.http.get("/health/", headers={"X-Request-ID": "bad id; drop"})

    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert stack.nginx.access_log_with(request_id)


def test_the_app_logs_one_json_line_per_request_with_who_what_and_how(stack, account):
    stack.http.get("/auth/me/", headers={**account.auth, "X-Request-ID": "who-what-how"})

    lines = [
        json.loads(line)
        for line in stack.log().splitlines()
        if "who-what-how" in line and '"taskapi.access"' in line
    ]
    assert len(lines) == 1
    line = lines[0]
    assert line["method"] == "GET"
    assert line["route"] == "me/" or line["route"].endswith("me/")
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float | int)
    assert isinstance(line["user_id"], int)
    assert line["request_id"] == "who-what-how"


@pytest.mark.parametrize(
    ("path", "allow"),
    [("/health/", "GET, HEAD"), ("/auth/login/", "POST"), ("/openapi.yaml", "GET, HEAD")],
)
def test_trace_through_nginx_is_the_apps_405_problem_with_allow(stack, path, allow):
    # nginx refuses TRACE before any location; its own answer was an HTML 405 without Allow.
    response = stack.http.request("TRACE", path, headers={"X-Request-ID": "trace-1"})

    assert response.status_code == 405
    assert response.headers["Content-Type"] == PROBLEM
    assert response.json()["status"] == 405
    assert response.headers["Allow"] == allow
    assert response.headers["X-Request-ID"] == "trace-1"


def test_trace_on_a_protected_route_through_nginx_is_a_401_first(stack):
    response = stack.http.request("TRACE", "/tasks/")

    assert response.status_code == 401
    assert response.headers["Content-Type"] == PROBLEM


def test_trace_with_a_token_on_a_protected_route_is_a_405_with_its_methods(stack, account):
    response = stack.http.request("TRACE", "/tasks/", headers=account.auth)

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST, HEAD"


def test_a_garbled_content_length_is_refused_by_nginx_as_a_problem(stack):
    """Framing headers never reach the app: nginx answers a malformed one with a problem."""
    context = ssl.create_default_context(cafile=str(stack.nginx.cert))
    request = (
        b"GET /tasks/trash/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Length: .Jm\t7ZD/vI} ]\r\nConnection: close\r\n\r\n"
    )
    raw = socket.create_connection(("127.0.0.1", stack.nginx.port), timeout=10)
    with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(request)
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"content-type: application/problem+json" in head.lower()
    assert json.loads(body)["status"] == 400
