"""Concurrent writers on PostgreSQL, spread over both instances."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from tests.stack.conftest import create_account


def _together(n: int, work):  # type: ignore[no-untyped-def]
    """Run work(i) for i in range(n) in n threads released at the same instant."""
    barrier = threading.Barrier(n)

    def run(i: int):  # type: ignore[no-untyped-def]
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_concurrent_writers_with_one_etag_let_exactly_one_win(stack):
    account = create_account(stack.http)
    created = stack.http.post("/tasks/", json={"title": "contended"}, headers=account.auth)
    etag = created.headers["ETag"]
    url = created.headers["Location"]

    responses = _together(
        10,
        lambda i: stack.apps[i % 2].http.patch(
            url, json={"title": f"writer {i}"}, headers={**account.auth, "If-Match": etag}
        ),
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 412: 9}, statuses
    winner = next(r for r in responses if r.status_code == 200).json()
    assert stack.http.get(url, headers=account.auth).json()["title"] == winner["title"]


def test_read_modify_write_with_if_match_loses_no_update(stack):
    account = create_account(stack.http)
    created = stack.http.post(
        "/tasks/", json={"title": "counter", "description": ""}, headers=account.auth
    )
    url = created.headers["Location"]

    def append(i: int) -> int:
        http, retries = stack.apps[i % 2].http, 0
        for n in range(3):
            while True:
                current = http.get(url, headers=account.auth)
                description = current.json()["description"] + f"[{i}.{n}]"
                written = http.patch(
                    url,
                    json={"description": description},
                    headers={**account.auth, "If-Match": current.headers["ETag"]},
                )
                if written.status_code == 200:
                    break
                assert written.status_code == 412, written.text
                retries += 1
        return retries

    retries = _together(8, append)

    final = stack.http.get(url, headers=account.auth).json()["description"]
    assert sorted(final.strip("[]").split("][")) == sorted(
        f"{i}.{n}" for i in range(8) for n in range(3)
    )
    assert sum(retries) > 0  # the writers did collide


def test_one_idempotency_key_sent_concurrently_creates_one_task(stack):
    account = create_account(stack.http)
    headers = {**account.auth, "Idempotency-Key": "race-key-1"}

    responses = _together(
        12,
        lambda i: stack.apps[i % 2].http.post(
            "/tasks/", json={"title": "exactly once"}, headers=headers
        ),
    )

    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    assert statuses[201] >= 1
    ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(ids) == 1
    listed = stack.http.get("/tasks/", headers=account.auth).json()["results"]
    assert [task["id"] for task in listed] == list(ids)
