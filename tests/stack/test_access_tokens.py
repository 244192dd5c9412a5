"""Personal access tokens on the real stack: an ended token is refused by the other instance
too, although both instances had its entry in the shared cache (issue 27).

The issue asks that a revocation be visible within one second on every instance, and that the
delay be measured across two instances. The delay here is the time from instance 1's answer to
the revoking request (its 204: the revocation has committed) until instance 2, polled in a
tight loop, refuses the token. It is an upper bound: it includes instance 2's own round trip.
One second is the issue's correctness bound, not a speed target; the figures are what a run
reports.
"""

from __future__ import annotations

import pickle
import statistics
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis

from taskapi.access_tokens.lookup import TokenEntry
from taskapi.access_tokens.secrets import parse
from tests.stack.conftest import PASSWORD, Account, create_account, record_figure
from tests.support.servers import HttpClient
from tests.support.services import Stack

BOUND = 1.0  # seconds: "revocation visible within one second on every instance"
GIVE_UP = 5.0  # seconds of polling before a token still accepted fails the test
POLL_INTERVAL = 0.002  # seconds between two polls of instance 2
REVOCATIONS = 20
PASSWORD_CHANGES = 5
TOKENS_PER_USER = 3
NEW_PASSWORD = "another-long-passphrase-44"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _token_create(http: HttpClient, account: Account, name: str) -> tuple[int, str]:
    expires_at = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    created = http.post(
        "/auth/tokens/",
        json={"name": name, "scopes": ["tasks:read"], "expires_at": expires_at},
        headers=account.auth,
    )
    assert created.status_code == 201, created.text
    return created.json()["id"], created.json()["token"]


def _cached_on_every_instance(stack: Stack, token_id: int, token: str) -> None:
    """Each instance serves the token, and its entry (not a tombstone) is in the shared cache:
    the revocation must overrule an entry the instances hold, not fill an empty key."""
    for app in stack.apps:
        served = app.http.get("/tasks/", headers=_bearer(token))
        assert served.status_code == 200, served.text
    parsed = parse(token)
    assert parsed is not None
    key_id, _ = parsed
    raw = redis.Redis(host="127.0.0.1", port=stack.redis.port).get(f"taskapi:1:pat:{key_id}")
    assert raw is not None, "the token's entry is not in the shared cache"
    entry = pickle.loads(raw)  # noqa: S301 (our own Redis, written by our app)
    assert isinstance(entry, TokenEntry)
    assert entry.token_id == token_id


def _refused_after(http: HttpClient, token: str, *, since: float) -> float:
    """Seconds from `since` until this instance refuses the token as invalid."""
    while True:
        response = http.get("/tasks/", headers=_bearer(token))
        if response.status_code == 401:
            refused = time.monotonic()
            assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
            return refused - since
        # 429: the token was still accepted (rate limits apply after authentication).
        assert response.status_code in (200, 429), response.text
        if time.monotonic() - since > GIVE_UP:
            pytest.fail(f"the token is still accepted {GIVE_UP} s after it was ended")
        time.sleep(POLL_INTERVAL)


def _milliseconds(delays: list[float]) -> str:
    return f"median {statistics.median(delays) * 1000:.1f} ms, max {max(delays) * 1000:.1f} ms"


def test_a_token_revoked_through_one_instance_is_refused_by_the_other_within_a_second(stack):
    first, second = (app.http for app in stack.apps)
    account = create_account(stack.http)
    delays, deletes = [], []

    for n in range(REVOCATIONS):
        token_id, token = _token_create(first, account, f"revoked {n}")
        _cached_on_every_instance(stack, token_id, token)

        sent = time.monotonic()
        deleted = first.delete(f"/auth/tokens/{token_id}/", headers=account.auth)
        answered = time.monotonic()
        assert deleted.status_code == 204, deleted.text
        delays.append(_refused_after(second, token, since=answered))
        deletes.append(answered - sent)
        assert first.get("/tasks/", headers=_bearer(token)).status_code == 401

    record_figure(
        f"access token revoked on instance 1, refused by instance 2 ({REVOCATIONS} tokens, "
        f"both cached): {_milliseconds(delays)} after the 204; the DELETE took "
        f"{_milliseconds(deletes)}"
    )
    assert max(delays) < BOUND


def test_a_password_change_through_one_instance_ends_every_token_on_the_other(stack):
    first, second = (app.http for app in stack.apps)
    delays, changes = [], []

    for _ in range(PASSWORD_CHANGES):
        account = create_account(stack.http)
        tokens = [_token_create(first, account, f"script {n}") for n in range(TOKENS_PER_USER)]
        for token_id, token in tokens:
            _cached_on_every_instance(stack, token_id, token)

        sent = time.monotonic()
        changed = first.post(
            "/auth/password/",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=account.auth,
        )
        answered = time.monotonic()
        assert changed.status_code == 204, changed.text
        # The last token refused is the delay of the whole change.
        delays.append(max(_refused_after(second, token, since=answered) for _, token in tokens))
        changes.append(answered - sent)
        for _, token in tokens:
            assert first.get("/tasks/", headers=_bearer(token)).status_code == 401

    record_figure(
        f"password changed on instance 1, all {TOKENS_PER_USER} access tokens refused by "
        f"instance 2 ({PASSWORD_CHANGES} users, both cached): {_milliseconds(delays)} after "
        f"the 204; the change took {_milliseconds(changes)}"
    )
    assert max(delays) < BOUND
