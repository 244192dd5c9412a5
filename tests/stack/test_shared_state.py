"""State that every instance must share through Redis and PostgreSQL, not keep per process."""

import time

import pytest

from tests.stack.conftest import PASSWORD, create_account, new_stack


@pytest.fixture(scope="module")
def limited_stack(tmp_path_factory, pg_server):
    # Per hour, not per minute: a fixed window that rolls over mid-test would reset the count.
    server = new_stack(tmp_path_factory, pg_server, AUTH_RATE_LIMIT="5/hour")
    yield server
    server.stop()


@pytest.fixture
def fresh_window():
    if 3600 - time.time() % 3600 < 20:
        time.sleep(3600 - time.time() % 3600 + 0.5)


def test_the_login_rate_limit_counts_across_both_instances(limited_stack, fresh_window):
    a, b = (app.http for app in limited_stack.apps)
    attempt = {"email": "nobody@example.com", "password": "wrong-password-1"}

    statuses = [(a if n % 2 == 0 else b).post("/auth/login/", json=attempt) for n in range(6)]

    assert [r.status_code for r in statuses] == [401] * 5 + [429]
    assert [r.headers["RateLimit-Remaining"] for r in statuses[:5]] == ["4", "3", "2", "1", "0"]
    assert int(statuses[5].headers["Retry-After"]) > 0


def test_a_forged_x_forwarded_for_does_not_escape_the_limit(limited_stack, fresh_window):
    http = limited_stack.http  # through nginx, which overwrites X-Forwarded-For

    statuses = [
        http.post(
            "/auth/register/", json={}, headers={"X-Forwarded-For": f"203.0.113.{n}"}
        ).status_code
        for n in range(6)
    ]

    assert statuses == [400] * 5 + [429]


def test_an_idempotency_key_is_replayed_by_the_other_instance(stack):
    account = create_account(stack.http)
    a, b = (app.http for app in stack.apps)
    headers = {**account.auth, "Idempotency-Key": "shared-key-1"}

    first = a.post("/tasks/", json={"title": "once"}, headers=headers)
    replay = b.post("/tasks/", json={"title": "once"}, headers=headers)

    assert first.status_code == 201
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert replay.headers["Location"] == first.headers["Location"]
    assert len(a.get("/tasks/", headers=account.auth).json()["results"]) == 1


def test_a_refresh_token_revoked_on_one_instance_is_refused_by_the_other(stack):
    account = create_account(stack.http)
    a, b = (app.http for app in stack.apps)

    logout = a.post("/auth/logout/", json={"refresh": account.refresh}, headers=account.auth)
    refresh = b.post("/auth/refresh/", json={"refresh": account.refresh})

    assert logout.status_code == 204
    assert refresh.status_code == 401
    assert refresh.json()["type"] == "/problems/invalid-token"


def test_a_password_change_on_one_instance_ends_access_tokens_on_the_other(stack):
    account = create_account(stack.http)
    a, b = (app.http for app in stack.apps)
    assert b.get("/auth/me/", headers=account.auth).status_code == 200  # b has cached the version

    changed = a.post(
        "/auth/password/",
        json={"current_password": PASSWORD, "new_password": "another-long-passphrase-43"},
        headers=account.auth,
    )
    after = b.get("/auth/me/", headers=account.auth)

    assert changed.status_code == 204
    assert after.status_code == 401


def test_requests_reuse_the_instances_redis_connections(stack, account):
    # Django keeps cache objects per request context; the app must still share one pool per
    # process, or every request opens (and leaks to the garbage collector) a Redis connection.
    import redis

    server = redis.Redis(host="127.0.0.1", port=stack.redis.port)
    for app in stack.apps:
        app.http.get("/tasks/", headers=account.auth)  # each instance has its pool open
    before = server.info("stats")["total_connections_received"]

    statuses = {
        app.http.get("/tasks/", headers=account.auth).status_code
        for _ in range(20)
        for app in stack.apps
    }

    opened = server.info("stats")["total_connections_received"] - before
    assert statuses == {200}
    assert opened <= len(stack.apps)  # sequential requests: at most one more per instance
