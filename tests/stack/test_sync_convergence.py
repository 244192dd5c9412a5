"""The changes feed converges under concurrent writers on PostgreSQL, across both instances.

A round: a fresh user with a few tasks; WRITERS threads each send their seeded random list of
operations (create, retitle, complete, uncomplete, trash, restore, erase) in turn to instance 0,
nginx and instance 1, while a reader syncs from scratch and then keeps polling the feed with
page sizes of 1 to 7, alternately on instance 1 and instance 0, applying each page to its copy.
When the writers are done the reader syncs once more to the end, and its copy must equal every
live task the server lists, field for field, holding nothing that is in the trash or erased.

That is the feed's claim (taskapi/sync/models.py): numbers are taken under the user's counter
lock, so they follow commit order and a reader never skips a change that commits late.

SYNC_ROUNDS rounds (20 by default; `make sync-soak` runs 1000), each with a fresh random seed.
A failure names the seed; SYNC_SEED=<seed> replays that round's schedule.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
import requests

from tests.stack.conftest import create_account, record_figure
from tests.support.sync_mirror import Mirror, all_pages, divergence

REPLAY_SEED = os.environ.get("SYNC_SEED")
ROUNDS = 1 if REPLAY_SEED else int(os.environ.get("SYNC_ROUNDS", "20"))
WRITERS = 4
OPERATIONS_PER_WRITER = 10
SEED_TASKS = 6
READER_PAGE_SIZES = (1, 7)

# kind: (weight, statuses a writer may get; anything else fails the round)
KINDS: dict[str, tuple[int, frozenset[int]]] = {
    "create": (3, frozenset({201})),
    "retitle": (4, frozenset({200, 404, 409, 412})),
    "complete": (2, frozenset({200, 404, 409, 412})),
    "uncomplete": (2, frozenset({200, 404, 409, 412})),
    "trash": (3, frozenset({204, 404, 412})),
    "restore": (3, frozenset({200, 404, 409, 412})),
    "erase": (2, frozenset({204, 404})),
}
GUARDED = {"retitle", "complete", "uncomplete", "trash", "restore"}  # these may send If-Match


@dataclass(frozen=True)
class Operation:
    kind: str
    target: str  # a task's label: "s3" (made before the round) or "w1.2" (writer 1's third)
    if_match: bool  # with the ETag this writer last saw of the target, when it saw one

    def __str__(self) -> str:
        return f"{self.kind} {self.target}{' if-match' if self.if_match else ''}"


def schedule_for(seed: int) -> list[list[Operation]]:
    """Each writer's operations, in order. A writer picks among the round's first tasks and the
    ones it created itself, so the schedule alone says which task each operation is about;
    it mostly restores and erases what it trashed itself (another writer may have been first).
    """
    rng = random.Random(seed)
    kinds = list(KINDS)
    weights = [KINDS[kind][0] for kind in kinds]
    schedule = []
    for writer in range(WRITERS):
        known = [f"s{n}" for n in range(SEED_TASKS)]
        trashed: list[str] = []
        operations: list[Operation] = []
        for _ in range(OPERATIONS_PER_WRITER):
            kind = rng.choices(kinds, weights)[0]
            if kind == "create":
                target = f"w{writer}.{sum(op.kind == 'create' for op in operations)}"
                known.append(target)
            elif kind in ("restore", "erase") and trashed and rng.random() < 0.8:
                target = rng.choice(trashed)
            else:
                target = rng.choice(known)
            if kind == "trash":
                trashed.append(target)
            operations.append(Operation(kind, target, kind in GUARDED and rng.random() < 0.4))
        schedule.append(operations)
    return schedule


@dataclass
class Outcome:
    writer: int
    operation: Operation
    via: str
    task_id: int | None
    status: int | str  # an HTTP status, or the exception a request raised


@dataclass
class Round:
    seed: int
    schedule: list[list[Operation]]
    auth: dict[str, str]
    ids: dict[str, int] = field(default_factory=dict)  # label -> task id
    outcomes: list[list[Outcome]] = field(default_factory=list)
    reader_error: str | None = None
    pages: int = 0
    failure: str | None = None  # why the round failed: a request's status, or a divergence
    diverged: bool = False

    def problems(self) -> list[str]:
        found = [
            f"writer {o.writer} {o.operation} via {o.via} -> {o.status} (not allowed)"
            for outcomes in self.outcomes
            for o in outcomes
            if o.status not in KINDS[o.operation.kind][1]
        ]
        if self.reader_error:
            found.append(f"reader: {self.reader_error}")
        return found

    def report(self, headline: str) -> str:
        ids = ", ".join(f"{label}=#{task_id}" for label, task_id in self.ids.items())
        lines = [
            headline,
            f"round seed {self.seed}; replay it with SYNC_SEED={self.seed} "
            f".venv/bin/pytest {__name__.replace('.', '/')}.py -p no:cacheprovider",
            f"tasks: {ids}",
            f"reader: {self.pages} pages",
            "schedule (each writer's operations in order, with what it got):",
        ]
        for writer, operations in enumerate(self.schedule):
            done = self.outcomes[writer] if writer < len(self.outcomes) else []
            lines.append(f"  writer {writer}:")
            for n, operation in enumerate(operations):
                if n < len(done):
                    o = done[n]
                    lines.append(f"    {n:2} {operation} (#{o.task_id}) via {o.via} -> {o.status}")
                else:
                    lines.append(f"    {n:2} {operation} (not run)")
        return "\n".join(lines)


class Writer:
    """One writer's sessions (a requests.Session is not shared between threads) and memory."""

    def __init__(self, index: int, stack, run: Round) -> None:  # type: ignore[no-untyped-def]
        self.index = index
        self.auth = run.auth
        self.run = run
        self.targets = [
            ("instance 0", stack.apps[0].http),
            ("nginx", stack.http),
            ("instance 1", stack.apps[1].http),
        ]
        self.etags: dict[str, str] = {}

    def perform(self, barrier: threading.Barrier) -> list[Outcome]:
        barrier.wait()
        outcomes = []
        for n, operation in enumerate(self.run.schedule[self.index]):
            via, http = self.targets[(self.index + n) % len(self.targets)]
            task_id = self.run.ids.get(operation.target)
            try:
                response = self._send(http, operation, task_id, n)
                status: int | str = response.status_code
            except requests.RequestException as error:
                response, status = None, f"{type(error).__name__}: {error}"
            if operation.kind == "create" and status == 201 and response is not None:
                task_id = response.json()["id"]
                self.run.ids[operation.target] = task_id  # only this writer writes this label
            if response is not None and "ETag" in response.headers:
                self.etags[operation.target] = response.headers["ETag"]
            outcomes.append(Outcome(self.index, operation, via, task_id, status))
            if isinstance(status, str) or status not in KINDS[operation.kind][1]:
                break  # the round has failed; the report shows where
        return outcomes

    def _send(
        self, http: requests.Session, operation: Operation, task_id: int | None, n: int
    ) -> requests.Response:
        headers = dict(self.auth)
        etag = self.etags.get(operation.target)
        if operation.if_match and etag is not None:
            headers["If-Match"] = etag
        title = f"{operation.target}, writer {self.index} op {n} ({self.run.seed})"
        match operation.kind:
            case "create":
                body = {"title": title, "completed": len(title) % 2 == 0}
                return http.post("/tasks/", json=body, headers=headers)
            case "retitle":
                return http.patch(f"/tasks/{task_id}/", json={"title": title}, headers=headers)
            case "complete" | "uncomplete":
                completed = operation.kind == "complete"
                return http.patch(
                    f"/tasks/{task_id}/", json={"completed": completed}, headers=headers
                )
            case "trash":
                return http.delete(f"/tasks/{task_id}/", headers=headers)
            case "restore":
                return http.post(f"/tasks/{task_id}/restore/", headers=headers)
            case "erase":
                return http.delete(f"/tasks/trash/{task_id}/", headers=headers)
        raise AssertionError(operation.kind)


def read_while(
    stop: threading.Event, mirror: Mirror, readers: list[requests.Session], run: Round
) -> None:
    """Poll the feed until `stop`, with small random pages, alternating between sessions."""
    rng = random.Random(run.seed ^ 0x5EED)
    try:
        n = 0
        while not stop.is_set():
            http = readers[n % len(readers)]
            n += 1
            if not mirror.fetch(http, run.auth, page_size=rng.randint(*READER_PAGE_SIZES)):
                time.sleep(rng.uniform(0, 0.002))
    except Exception as error:  # reported with the round's schedule
        run.reader_error = f"{type(error).__name__}: {error}"


def play_round(stack, seed: int) -> Round:  # type: ignore[no-untyped-def]
    """Run one round; its `failure` says why the copy diverged or a request failed, if so."""
    account = create_account(stack.http)
    run = Round(seed=seed, schedule=schedule_for(seed), auth=account.auth)
    setup = stack.http
    for n in range(SEED_TASKS):
        created = setup.post(
            "/tasks/",
            json={"title": f"s{n} ({seed})", "completed": n % 2 == 1},
            headers=account.auth,
        )
        assert created.status_code == 201, created.text
        run.ids[f"s{n}"] = created.json()["id"]

    writers = [Writer(index, stack, run) for index in range(WRITERS)]
    mirror = Mirror()
    stop = threading.Event()
    barrier = threading.Barrier(WRITERS + 1)
    reader_sessions = [stack.apps[1].http, stack.apps[0].http]
    with ThreadPoolExecutor(WRITERS + 1) as pool:
        futures = [pool.submit(writer.perform, barrier) for writer in writers]

        def reader() -> None:
            barrier.wait()
            read_while(stop, mirror, reader_sessions, run)

        reading = pool.submit(reader)
        run.outcomes = [future.result() for future in futures]
        stop.set()
        reading.result()

    final = random.Random(seed ^ 0xF1A1)
    try:
        mirror.sync(stack.http, account.auth, page_size=lambda: final.randint(*READER_PAGE_SIZES))
        truth = {
            task["id"]: task for task in all_pages(stack.apps[0].http, "/tasks/", account.auth)
        }
        trash = {
            task["id"] for task in all_pages(stack.apps[0].http, "/tasks/trash/", account.auth)
        }
    except (AssertionError, requests.RequestException) as error:
        run.reader_error = run.reader_error or f"{type(error).__name__}: {error}"
        truth, trash = {}, set()
    run.pages = mirror.pages

    problems = run.problems()
    if problems:
        run.failure = run.report("A request of the round failed:\n  " + "\n  ".join(problems))
        return run
    erased = {
        o.task_id
        for outcomes in run.outcomes
        for o in outcomes
        if o.operation.kind == "erase" and o.status == 204
    }
    diff = divergence(mirror.tasks, truth)
    if diff:

        def why(task_id: int) -> str:
            if task_id in trash:
                return "in the trash"
            return "erased" if task_id in erased else "not live"

        run.diverged = True
        run.failure = run.report(
            "The synced copy differs from the server's tasks:\n" + diff.describe(why)
        )
    return run


@pytest.mark.timeout(120 + 10 * ROUNDS)
def test_a_client_applying_the_feed_converges_to_the_server_under_concurrent_writers(stack):
    seeds = (
        [int(REPLAY_SEED)]
        if REPLAY_SEED
        else [random.SystemRandom().randrange(2**32) for _ in range(ROUNDS)]
    )
    started = time.monotonic()
    statuses: Counter[int | str] = Counter()
    pages = divergences = operations = rounds = 0
    try:
        for seed in seeds:
            run = play_round(stack, seed)
            rounds += 1
            pages += run.pages
            divergences += run.diverged
            for outcomes in run.outcomes:
                operations += len(outcomes)
                statuses.update(o.status for o in outcomes)
            if run.failure:
                pytest.fail(run.failure, pytrace=False)
    finally:
        by_status = " ".join(f"{status}:{n}" for status, n in sorted(statuses.items(), key=str))
        record_figure(
            f"sync convergence: {rounds} rounds, {operations} operations ({by_status}), "
            f"{pages} feed pages read, {divergences} divergences, "
            f"{time.monotonic() - started:.1f} s"
        )
