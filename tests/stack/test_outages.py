"""PostgreSQL and Redis go away and come back; the app degrades to 503s, then recovers alone.

The outage is a cut in a TCP proxy between the apps and the service (every connection dropped,
new ones refused), so the apps are never restarted.
"""

import json
import time

import pytest

from tests.stack.conftest import create_account, record_figure

RECOVERY_DEADLINE = 20.0  # seconds; psycopg's pool retries with a backoff of 1, 2, 4... s
PROBLEM = "application/problem+json"


def _timed(call):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def _wait_for(predicate, deadline: float) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.2)
    pytest.fail(f"not recovered within {deadline} s")


def _assert_unavailable(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"] == PROBLEM
    assert response.json()["type"] == "/problems/service-unavailable"
    assert int(response.headers["Retry-After"]) > 0


@pytest.fixture
def pg_cut(stack):
    yield stack.pg_proxy
    stack.pg_proxy.restore()


@pytest.fixture
def redis_cut(stack):
    yield stack.redis_proxy
    stack.redis_proxy.restore()


def test_a_database_outage_is_503s_then_recovers_without_a_restart(stack, pg_cut):
    http = stack.http
    account = create_account(http)
    written = []
    for n in range(5):
        created = http.post("/tasks/", json={"title": f"before the cut {n}"}, headers=account.auth)
        assert created.status_code == 201
        written.append(created.json())
    pids = [app.process.pid for app in stack.apps]

    pg_cut.cut()

    for app in stack.apps:  # each instance notices on its own
        ready, elapsed = _timed(lambda app=app: app.http.get("/health/ready/"))
        _assert_unavailable(ready)
        assert ready.json()["checks"] == {"database": "unavailable"}
        assert elapsed < 2.0
        record_figure(f"pg cut: /health/ready/ 503 after {elapsed:.2f} s on :{app.port}")
    for method, path, body in [
        ("GET", "/tasks/", None),
        ("GET", f"/tasks/{written[0]['id']}/", None),
        ("POST", "/tasks/", {"title": "during the cut"}),
        ("PATCH", f"/tasks/{written[1]['id']}/", {"completed": True}),
    ]:
        response, elapsed = _timed(
            lambda m=method, p=path, b=body: http.request(m, p, json=b, headers=account.auth)
        )
        _assert_unavailable(response)
        assert elapsed < 5.0, f"{method} {path} took {elapsed:.1f} s"
    for _ in range(4):
        assert http.get("/health/").status_code == 200

    pg_cut.restore()

    recovered = _wait_for(
        lambda: all(
            app.http.get("/tasks/", headers=account.auth).status_code == 200 for app in stack.apps
        ),
        RECOVERY_DEADLINE,
    )
    record_figure(f"pg restored: both instances serve tasks again after {recovered:.2f} s")
    assert [app.process.pid for app in stack.apps] == pids  # nobody restarted
    for app in stack.apps:
        assert app.http.get("/health/ready/").status_code == 200
    for task in written:
        again = http.get(f"/tasks/{task['id']}/", headers=account.auth)
        assert again.status_code == 200
        assert again.json() == task
    titles = {t["title"] for t in http.get("/tasks/", headers=account.auth).json()["results"]}
    assert "during the cut" not in titles
    assert http.post("/tasks/", json={"title": "after"}, headers=account.auth).status_code == 201


def test_a_redis_outage_fails_open_and_never_500s(stack, redis_cut):
    http = stack.http
    account = create_account(http)
    created = http.post("/tasks/", json={"title": "cached"}, headers=account.auth)
    assert created.status_code == 201

    log_offsets = [len(app.log()) for app in stack.apps]

    redis_cut.cut()

    # Tokens are checked against the database instead of the cache; the rate limit fails open.
    started = time.monotonic()
    for app in stack.apps:
        listed = app.http.get("/tasks/", headers=account.auth)
        assert listed.status_code == 200, listed.text
        assert app.http.get("/health/ready/").status_code == 200
    other = create_account(http)  # register + login: rate-limited routes
    assert http.get("/auth/me/", headers=other.auth).status_code == 200
    refreshed = http.post("/auth/refresh/", json={"refresh": account.refresh})
    assert refreshed.status_code == 200
    record_figure(f"redis cut: {2 * 2 + 4} requests served in {time.monotonic() - started:.2f} s")

    redis_cut.restore()

    recovered = _wait_for(
        lambda: http.get("/tasks/", headers=account.auth).status_code == 200, RECOVERY_DEADLINE
    )
    record_figure(f"redis restored: tasks served after {recovered:.2f} s")
    # Logged as warnings (with the cause), never as an error or a 500.
    pairs = zip(stack.apps, log_offsets, strict=True)
    logged = "".join(app.log()[offset:] for app, offset in pairs)
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    assert [line for line in lines if line["level"] == "WARNING"]
    assert not [line for line in lines if line["level"] in ("ERROR", "CRITICAL")]
    assert not [line for line in lines if line.get("status", 0) >= 500]
