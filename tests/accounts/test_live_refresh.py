"""Refresh rotation under real concurrency: Uvicorn, real threads, a real database."""

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.server


def test_two_concurrent_refreshes_of_one_token_cannot_both_win(live_app):
    email = f"race-{secrets.token_hex(4)}@example.com"
    live_app.http.post("/auth/register/", json={"email": email, "password": "race-passphrase-1"})
    pair = live_app.http.post(
        "/auth/login/", json={"email": email, "password": "race-passphrase-1"}
    ).json()

    def refresh(_):
        return live_app.http.post("/auth/refresh/", json={"refresh": pair["refresh"]})

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(response.status_code for response in pool.map(refresh, range(4)))

    assert statuses == [200, 401, 401, 401]
