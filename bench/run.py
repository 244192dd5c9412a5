"""`make bench`: the project against a raw ASGI baseline, on the production stack.

    python -m bench            full run: 10k and 1M tasks, every scenario, the latency sweep
    python -m bench --smoke    tiny data, 2 s a scenario, no 1M seed (under a minute)
    python -m bench --profile  also py-spy flame graphs of one worker during the list scenario
    python -m bench --floor    add the framework floor apps to a smoke or experiment run
                               (a full run has them; --no-floor leaves them out)
    python -m bench --no-peers leave out the peers (bench/peers; on in a full and a smoke run)

Private PostgreSQL (pg_stat_statements loaded), Redis, nginx (deploy/nginx's template) and
Uvicorn, all on free loopback ports in a temporary directory, stopped by PID at the end. Writes
bench/results/bench-<timestamp>.md/.json/.png (or --out DIR) and prints the Markdown.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import psycopg
import requests

from bench import report
from bench.flame_summary import self_time_by_package
from bench.scenarios import (
    FLOOR_SCENARIOS,
    PEER_SCENARIOS,
    PROJECT_ONLY_SCENARIOS,
    SCENARIOS,
    TOKEN_RATE_LIMITS,
)
from bench.seed import DataSet, filtered_label_by_owner, seed, task_ids_by_owner
from bench.stack import (
    NginxServer,
    PostgresServer,
    RedisServer,
    Uvicorn,
    cores,
    cpu_seconds,
    enable_pg_stat_statements,
    rss_kib,
)
from tests.support.servers import BIN, REPO, app_environment
from tests.support.services import require

BENCH = Path(__file__).resolve().parent
LUA = BENCH / "wrk" / "api.lua"


@dataclass(frozen=True)
class AppSpec:
    """One app the benchmark serves, behind its own nginx."""

    app: str  # Uvicorn's APP argument
    role: str  # project, baseline, variant (of the project: VARIANTS), floor or peer
    env: dict[str, str] = field(default_factory=dict)  # overrides of the app environment
    args: tuple[str, ...] = ()  # extra Uvicorn flags
    # The scenarios it is measured on. None: every scenario, on every data set, and the
    # connection sweep. A tuple: only those, at the main connection count, on the main data set
    # (the only one it is served on). The deep-page walk needs "deep" in it (cursors served).
    scenarios: tuple[str, ...] | None = None
    # The preflight checks that its answers have the Task keys (False: a fixed body).
    task_shaped: bool = True
    about: str = ""  # one line for the report
    python: str = ""  # another interpreter than the harness's (a variant), with the dependencies
    # `--scenario`: the run measures only these, whatever the app serves (None: no limit).
    only: tuple[str, ...] | None = None

    def measures(self, scenario: str) -> bool:
        if self.only is not None and scenario not in self.only:
            return False
        if scenario in PROJECT_ONLY_SCENARIOS and self.role not in ("project", "variant"):
            return False
        return self.scenarios is None or scenario in self.scenarios

    @property
    def serves_everything(self) -> bool:
        return self.scenarios is None


# --variant adds VARIANTS' apps, --floor (on in a full run) FLOOR_APPS.
APPS = {
    "project": AppSpec("taskapi.asgi:application", "project"),
    "baseline": AppSpec("bench.baseline_app:app", "baseline", about="raw ASGI, the work only"),
}
# The project served another way, through settings it documents (deploy/env.example):
# `--variant NAME` adds one to a run, `--experiment` serves them all side by side
# on 10k tasks. The levers that needed code were measured in-process (bench/inprocess.py) and
# either applied in src/ or dropped; their figures are in bench/README.md.
VARIANTS: dict[str, AppSpec] = {
    # A psycopg pool of 32 instead of 10: requests hold their connection until the response is
    # built, so at 32 requests in flight per worker they queue for one.
    "pool32": AppSpec(APPS["project"].app, "variant", env={"DB_POOL_MAX_SIZE": "32"}),
    # The JSON access line of every request at INFO, skipped.
    "nolog": AppSpec(APPS["project"].app, "variant", env={"LOG_LEVEL": "WARNING"}),
    # Two request threads per process instead of REQUEST_THREADS=10: fewer threads contend for
    # the GIL, but a database farther away than loopback needs threads to overlap round trips.
    "threads2": AppSpec(APPS["project"].app, "variant", env={"REQUEST_THREADS": "2"}),
}

# What stands between the project and the baseline (bench/django_floor): Django's handler with
# no work, then the baseline's work inside Django without DRF, ORM or middleware, synchronously
# (as the project is served) and as an async view (the baseline's own code).


def _floor_app(mode: str, about: str, **spec: bool) -> AppSpec:
    return AppSpec(
        "bench.django_floor.asgi:application",
        "floor",
        env={"BENCH_DJANGO_FLOOR": mode},
        scenarios=FLOOR_SCENARIOS,
        about=about,
        **spec,
    )


FLOOR_APPS = {
    "django-empty": _floor_app(
        "empty", "Django's handler + a2wsgi + Uvicorn answering `{}`: no work", task_shaped=False
    ),
    "django-floor": _floor_app(
        "work", "the baseline's work inside Django: no DRF, ORM or middleware"
    ),
    "django-async-floor": _floor_app(
        "async", "the baseline's own async code as one async view under Django's ASGI handler"
    ),
}
# The same API the way two other stacks' users write it (bench/peers), on PEER_SCENARIOS.
PEER_APPS = {
    "fastapi-template": AppSpec(
        "bench.peers.fastapi_template:app",
        "peer",
        scenarios=PEER_SCENARIOS,
        about="FastAPI full-stack template: SQLModel, Pydantic models, get_current_user, sync",
    ),
    "django-ninja": AppSpec(
        "bench.peers.ninja.asgi:application",
        "peer",
        scenarios=PEER_SCENARIOS,
        about="django-ninja: Schemas, HttpBearer, the Django ORM, served as the project is",
    ),
}
# Run on both data sets: 10k vs 1M. The changes feed's issue: "the feed costs the same at 10k
# and at 1M tasks: index-backed, at most 2 queries per page"; the labels' issue asks the same of
# the label-filtered list.
COMPARED = ("list", "deep", "labelled", "changes", "changes-empty", "shared")
# Sent by the deep-page users to a URL walked from the app's own answers (or a fixed one).
PATH_SCENARIOS = ("deep", "changes", "changes-empty", "trash")
# Sent by the members of the shared projects (bench/seed.py), each its first page.
SHARED_PATH = "/tasks/?page_size=20"
# Sent by the token users, each to its own URL: its filtered label (bench/seed.py).
LABELLED_PATH = "/tasks/?label={label_id}&page_size=20"
DEEP_PAGES = 50
# The `changes` page follows this many full pages of the default size (100): 600 of the deep
# users' 1,100 changes are left after it, so it is a page of 100 tasks from mid-log.
CHANGES_MIDDLE_PAGES = 5
CHANGES_PAGE_SIZE = 100  # the feed's default page size (taskapi.tasks.changes)
TRASH_PATH = "/tasks/trash/?page_size=20"
# The data sets (`--data`): users with their own tasks (10k and 1M of them), and 20 projects
# of 500 or 50,000 tasks each shared with two members, for the shared list (bench/seed.py).
DATASETS = {
    "tiny": DataSet("tiny", users=20, deep_users=2, shared_tasks=50),
    "10k": DataSet("10k", users=100, shared_tasks=500),
    "1M": DataSet("1M", users=10_000, shared_tasks=50_000),
}


@dataclass
class Config:
    smoke: bool
    duration: int
    warmup: int
    sweep_duration: int
    connections: int
    sweep: list[int]
    datasets: list[DataSet]
    token_users: int
    workers: int
    profile: bool
    out_dir: Path
    keep: bool = False
    name: str = "bench"
    apps: dict[str, AppSpec] = field(default_factory=lambda: dict(APPS))

    @property
    def main(self) -> DataSet:
        return self.datasets[-1]


@dataclass
class Run:
    app: str
    dataset: str
    scenario: str
    connections: int
    duration_s: float
    requests: int
    rps: float
    errors: dict
    latency_ms: dict
    statements_per_request: dict = field(default_factory=dict)
    statements: list = field(default_factory=list)
    statuses: dict = field(default_factory=dict)
    # CPU time the app's workers used per request: the figure a busy shared machine distorts
    # least (throughput and latency depend on what else runs).
    cpu_ms_per_request: float = 0.0
    loadavg: tuple = ()


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the project's side ------------------------------------------------------------------------
def django_side(env: dict[str, str], *args: str) -> dict:
    result = subprocess.run(
        [str(BIN / "python"), "-m", "bench.django_side", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench.django_side {args[0]} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout)


# --- load --------------------------------------------------------------------------------------
def wrk(url: str, data_file: Path, scenario: str, *, connections: int, seconds: int) -> dict:
    threads = max(1, min(cores(), connections))
    argv = [
        require("wrk"),
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
        "--",
        str(data_file),
        scenario,
        str(threads),
    ]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(
        f"wrk printed no result ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )


WRITE = re.compile(r"\b(?:INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


class Statements:
    """Statements the app ran in one database while a scenario ran (pg_stat_statements)."""

    def __init__(self, pg: PostgresServer, database: str) -> None:
        self.conninfo = f"host=127.0.0.1 port={pg.port} user=postgres dbname=postgres"
        self.database = database

    def reset(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute("SELECT pg_stat_statements_reset()")

    def per_request(self, requests_done: int) -> tuple[dict, list]:
        """Statements per request by kind, and the statements with their calls per request."""
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT s.query, s.calls FROM pg_stat_statements s "
                "JOIN pg_database d ON d.oid = s.dbid "
                # Top level only: not the foreign-key check an INSERT runs inside PostgreSQL.
                "WHERE d.datname = %s AND s.toplevel ORDER BY s.calls DESC",
                (self.database,),
            ).fetchall()
        done = max(requests_done, 1)
        counts = {"sql": 0, "reads": 0, "transaction": 0, "auth_user": 0}
        for query, calls in rows:
            verb = query.lstrip().split(None, 1)[0].upper() if query.strip() else ""
            if verb in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
                counts["sql"] += calls
                if not WRITE.search(query):
                    counts["reads"] += calls
                # Not the foreign-key check PostgreSQL itself runs for an INSERT into tasks.
                if "accounts_user" in query and not report.is_fk_check(query):
                    counts["auth_user"] += calls
            else:
                counts["transaction"] += calls
        statements = [[round(calls / done, 3), query[:300]] for query, calls in rows[:8]]
        return {k: round(v / done, 3) for k, v in counts.items()}, statements


STATUS = re.compile(rb'"status":(\d+)')


class AccessLog:
    """Requests nginx answered, counted in its access log: in-flight requests that finish after
    wrk stops are counted too, so statements per request are exact."""

    def __init__(self, nginx: NginxServer) -> None:
        self.path = nginx.prefix / "logs" / "taskapi.access.log"
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def statuses(self) -> dict[str, int]:
        """Responses by status since mark() (the log is one JSON object a line)."""
        counts: dict[str, int] = {}
        with self.path.open("rb") as log_file:
            log_file.seek(self.offset)
            for line in log_file:
                match = STATUS.search(line)
                status = match.group(1).decode() if match else "?"
                counts[status] = counts.get(status, 0) + 1
        return counts


# --- per data set ------------------------------------------------------------------------------
@dataclass
class Served:
    uvicorns: dict[str, list[Uvicorn]]
    nginx: dict[str, NginxServer]

    def url(self, app: str) -> str:
        return self.nginx[app].base_url

    def stop(self) -> None:
        for server in self.nginx.values():
            with contextlib.suppress(Exception):
                server.stop()
        for group in self.uvicorns.values():
            for server in group:
                with contextlib.suppress(Exception):
                    server.stop()


def serve(env: dict[str, str], workdir: Path, workers: int, apps: dict[str, AppSpec]) -> Served:
    # Two instances behind nginx (deploy/nginx's two upstreams), one worker per core in all.
    per_instance = max(1, workers // 2)
    instances = 2 if workers >= 2 else 1
    uvicorns: dict[str, list[Uvicorn]] = {}
    nginx: dict[str, NginxServer] = {}
    try:
        for app, spec in apps.items():
            app_env = {**env, **spec.env}
            uvicorns[app] = [
                Uvicorn.start(
                    app,
                    spec.app,
                    app_env,
                    workdir=workdir,
                    workers=per_instance,
                    extra_args=spec.args,
                    python=spec.python,
                )
                for _ in range(instances)
            ]
            nginx[app] = NginxServer.start(
                workdir / app, [u.address for u in uvicorns[app]], tls=False
            )
    except BaseException:
        Served(uvicorns, nginx).stop()
        raise
    return Served(uvicorns, nginx)


def _session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def walk_deep(base_url: str, token: str) -> str:
    """The path of page 51: follow `next` from page 1, 50 times, as a client would."""
    session = _session(token)
    url = f"{base_url}/tasks/?page_size=20"
    for _ in range(DEEP_PAGES):
        response = session.get(url, timeout=10)
        response.raise_for_status()
        next_url = response.json()["next"]
        if not next_url:
            raise RuntimeError("ran out of pages before page 51: the deep users need more tasks")
        parts = urlsplit(next_url)
        url = f"{base_url}{parts.path}?{parts.query}"
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _changes_path(sync_token: str) -> str:
    return f"/tasks/changes/?{urlencode({'sync_token': sync_token})}"


def walk_changes(base_url: str, token: str) -> tuple[dict[str, str], list[list]]:
    """The user's whole change log, synced as a client does with the default page size: a full
    sync, then from each returned token until a page brings nothing new. Returns the paths of
    `changes` (the token after CHANGES_MIDDLE_PAGES pages) and `changes-empty` (the last
    token), and each page's task and deleted ids (the apps must agree on them)."""
    session = _session(token)
    pages: list[list] = []
    tokens: list[str] = []
    sync_token = None
    while True:
        params = {} if sync_token is None else {"sync_token": sync_token}
        response = session.get(f"{base_url}/tasks/changes/", params=params, timeout=10)
        response.raise_for_status()
        body = response.json()
        pages.append([[task["id"] for task in body["tasks"]], body["deleted"]])
        sync_token = body["sync_token"]
        tokens.append(sync_token)
        if not body["tasks"] and not body["deleted"]:
            break
        if len(pages) > 1_000:
            raise RuntimeError("the changes feed never ran dry")
    if len(pages) <= CHANGES_MIDDLE_PAGES or len(pages[CHANGES_MIDDLE_PAGES][0]) != (
        CHANGES_PAGE_SIZE
    ):
        raise RuntimeError(
            f"no page of {CHANGES_PAGE_SIZE} tasks after {CHANGES_MIDDLE_PAGES} pages of the "
            f"changes feed: the deep users need longer logs ({[len(p[0]) for p in pages]})"
        )
    paths = {
        "changes": _changes_path(tokens[CHANGES_MIDDLE_PAGES - 1]),
        "changes-empty": _changes_path(tokens[-1]),
    }
    return paths, pages


def walk_paths(url: str, spec: AppSpec, tokens: dict, ids: dict, deep_ids: list[int]) -> tuple:
    """Per path scenario the app is measured on, the deep-page users with their URL; and the
    changes feed's pages per user, as walked."""
    feed = {}
    if spec.measures("changes") or spec.measures("changes-empty"):
        feed = {pk: walk_changes(url, tokens[str(pk)]) for pk in deep_ids}
    path_users = {}
    for scenario in PATH_SCENARIOS:
        if not spec.measures(scenario):
            continue
        users = []
        for pk in deep_ids:
            if scenario == "deep":
                path = walk_deep(url, tokens[str(pk)])
            elif scenario == "trash":
                path = TRASH_PATH
            else:
                path = feed[pk][0][scenario]
            users.append({"token": tokens[str(pk)], "ids": ids[pk], "path": path})
        path_users[scenario] = users
    return path_users, {pk: pages for pk, (_paths, pages) in feed.items()}


def write_lua_data(path: Path, users: list[dict]) -> None:
    lines = ["return { users = {"]
    for user in users:
        for text in (user["token"], user.get("path", "")):
            if any(char in text for char in '"\\\n'):
                raise ValueError(f"unexpected character in {text!r}")
        ids = ",".join(str(i) for i in user["ids"])
        lines.append(
            f'  {{token="{user["token"]}", path="{user.get("path", "")}", ids={{{ids}}}}},'
        )
    lines.append("} }")
    path.write_text("\n".join(lines) + "\n")


SHAPE_KEYS = {
    "id",
    "title",
    "description",
    "completed",
    "completed_at",
    "priority",
    "due_date",
    "due_at",
    "time_zone",
    "created_at",
    "updated_at",
    "labels",
    "parent_id",
    "position",
    "project_id",
    "assignee_id",
}


# What the first page of each path scenario holds: (list key, items, keys of an item).
PATH_PAGES = {
    "deep": ("results", 20, SHAPE_KEYS),
    "changes": ("tasks", CHANGES_PAGE_SIZE, SHAPE_KEYS),
    "changes-empty": ("tasks", 0, SHAPE_KEYS),
    "trash": ("results", 20, SHAPE_KEYS | {"deleted_at"}),
    "labelled": ("results", 20, SHAPE_KEYS),
    "shared": ("results", 20, SHAPE_KEYS),
}


def preflight(
    url: str, app: str, spec: AppSpec, user: dict, path_users: dict[str, dict]
) -> dict[str, list]:
    """One request per scenario the app is measured on, as wrk will send it: right status and
    (for an app that answers with tasks) the Task shape. Returns the first page of each path
    scenario as (id, labels) pairs, for the apps to be compared."""
    session = _session(user["token"])
    task_id = user["ids"][0]
    checks = {
        "list": ("GET", "/tasks/?page_size=20", None, 200),
        "filtered": ("GET", "/tasks/?completed=false&ordering=-due_date", None, 200),
        "retrieve": ("GET", f"/tasks/{task_id}/", None, 200),
        "patch": ("PATCH", f"/tasks/{task_id}/", {"title": "Preflight"}, 200),
        "create": ("POST", "/tasks/", {"title": "Preflight", "priority": "high"}, 201),
    }
    for name, (method, path, body, status) in checks.items():
        if not spec.measures(name):
            continue
        response = session.request(method, f"{url}{path}", json=body, timeout=10)
        if response.status_code != status:
            raise RuntimeError(f"{app} {name}: {response.status_code} {response.text[:500]}")
        payload = response.json()
        task = payload["results"][0] if "results" in payload else payload
        if spec.task_shaped and set(task) != SHAPE_KEYS:
            raise RuntimeError(f"{app} {name}: Task keys {sorted(task)} != {sorted(SHAPE_KEYS)}")
    pages = {}
    for name, (key, count, keys) in PATH_PAGES.items():
        if not spec.measures(name):
            continue
        if name not in path_users:
            raise RuntimeError(f"{app}: measured on {name}, but no user's URL was walked")
        path_user = path_users[name]
        response = _session(path_user["token"]).get(f"{url}{path_user['path']}", timeout=10)
        body = response.json() if response.status_code == 200 else {}
        items = body.get(key, [])
        if response.status_code != 200 or len(items) != count or body.get("deleted"):
            raise RuntimeError(f"{app} {name}: {response.status_code} {response.text[:300]}")
        if spec.task_shaped and any(set(item) != keys for item in items):
            raise RuntimeError(f"{app} {name}: keys {sorted(items[0])} != {sorted(keys)}")
        if name == "labelled" and any(path_user["label"] not in i["labels"] for i in items):
            raise RuntimeError(f"{app} labelled: a task without label {path_user['label']}")
        if name == "shared" and len({item["project_id"] for item in items}) < 2:
            raise RuntimeError(f"{app} shared: a first page of one project, not a merge")
        pages[name] = [[item["id"], item.get("labels")] for item in items]
    return pages


def first_use(url: str, app: str, users: list[dict]) -> None:
    """Each personal access token's first request, before any run: it reads the token's row
    and caches its entry, and writes last_used_at, as a client's first call would; the runs
    measure what follows (issue 27: no database lookup after the first use)."""
    for user in users:
        response = _session(user["token"]).get(f"{url}/tasks/{user['ids'][0]}/", timeout=10)
        shaped = response.status_code == 200 and set(response.json()) == SHAPE_KEYS
        if not shaped:
            status, text = response.status_code, response.text[:300]
            raise RuntimeError(f"{app} token-retrieve: {status} {text}")


def same_pages(pages: dict[str, dict[str, list]]) -> None:
    """The first page of every path scenario holds the same tasks with the same labels on every
    app that serves it as on the project (the baseline does the project's work, not less)."""
    for app, by_scenario in pages.items():
        for scenario, page in by_scenario.items():
            expected = pages.get("project", {}).get(scenario)
            if expected is not None and page != expected:
                raise RuntimeError(f"{app}'s first {scenario} page differs from the project's")


def peer_bodies(url: str, app: str, token: str, task_id: int) -> dict[str, object]:
    """What a peer is compared on, as a deep-page user (no preflight writes to its tasks): the
    list's and the filtered list's first two pages (following `next`) and one task, whole
    bodies; a link is compared by its path and parameters, the opaque cursor left out."""
    session = _session(token)
    bodies: dict[str, object] = {}
    for name, path in (
        ("list", "/tasks/?page_size=20"),
        ("filtered", "/tasks/?completed=false&ordering=-due_date"),
    ):
        response = session.get(f"{url}{path}", timeout=10)
        response.raise_for_status()
        first = response.json()
        if not first.get("next"):
            raise RuntimeError(f"{app} {name}: no next page to compare")
        parts = urlsplit(first["next"])
        response = session.get(f"{url}{parts.path}?{parts.query}", timeout=10)
        response.raise_for_status()
        bodies[name] = [_without_cursor(first), _without_cursor(response.json())]
    response = session.get(f"{url}/tasks/{task_id}/", timeout=10)
    response.raise_for_status()
    bodies["retrieve"] = response.json()
    return bodies


def same_bodies(bodies: dict[str, dict[str, object]]) -> None:
    """Every app answered the project's bodies (peer_bodies), cursors apart."""
    for app, by_name in bodies.items():
        for name, body in by_name.items():
            if body != bodies["project"][name]:
                raise RuntimeError(f"{app}'s {name} body differs from the project's")


def _without_cursor(page: dict) -> dict:
    page = dict(page)
    for key in ("next", "previous"):
        if page.get(key):
            parts = urlsplit(page[key])
            params = sorted((k, v) for k, v in parse_qsl(parts.query) if k != "cursor")
            page[key] = [parts.path, params]
    return page


def settle(pids: list[int], *, step: float = 0.1, limit: float = 5.0) -> None:
    """Wait until the app's workers have stopped using CPU. nginx logs the requests still in
    flight when wrk stops (499) at once, but the app runs them to the end: after the warm-up,
    their statements and CPU would count in the run that follows; after the run, they count in
    it (nginx logged them). Two polls in a row without a clock tick (10 ms) of CPU is idle."""
    deadline = time.monotonic() + limit
    last, idle = cpu_seconds(pids), 0
    while idle < 2 and time.monotonic() < deadline:
        time.sleep(step)
        now = cpu_seconds(pids)
        idle = idle + 1 if now - last < 0.01 else 0
        last = now


def measure(
    config: Config,
    served: Served,
    stats: Statements,
    data_file: Path,
    dataset: DataSet,
    scenario: str,
    app: str,
    connections: int,
    seconds: int,
) -> Run:
    url = served.url(app)
    workers = [pid for server in served.uvicorns[app] for pid in server.worker_pids()]
    if config.warmup:
        wrk(url, data_file, scenario, connections=connections, seconds=config.warmup)
        settle(workers)
    loadavg = os.getloadavg()
    access_log = AccessLog(served.nginx[app])
    stats.reset()
    access_log.mark()
    cpu_before = cpu_seconds(workers)
    result = wrk(url, data_file, scenario, connections=connections, seconds=seconds)
    settle(workers)  # the requests still in flight when wrk stopped
    cpu = cpu_seconds(workers) - cpu_before
    statuses = access_log.statuses()
    per_request, statements = stats.per_request(sum(statuses.values()))
    duration = result["duration_us"] / 1e6
    run = Run(
        app=app,
        dataset=dataset.name,
        scenario=scenario,
        connections=connections,
        duration_s=round(duration, 2),
        requests=result["requests"],
        rps=round(result["requests"] / duration, 1),
        errors=result["errors"],
        latency_ms={k: round(v / 1000, 2) for k, v in result["latency_us"].items()},
        statements_per_request=per_request,
        statements=statements,
        statuses=statuses,
        cpu_ms_per_request=round(cpu * 1000 / max(sum(statuses.values()), 1), 3),
        loadavg=tuple(round(x, 2) for x in loadavg),
    )
    log(
        f"{dataset.name:>4} {scenario:<8} {app:<12} c={connections:<3} {run.rps:>8.1f} req/s "
        f"p50 {run.latency_ms['p50']} ms p99 {run.latency_ms['p99']} ms "
        f"cpu {run.cpu_ms_per_request} ms/req errors {sum(run.errors.values())} "
        f"statuses {statuses} load {loadavg[0]:.2f}"
    )
    return run


def profile(config: Config, served: Served, data_files: dict[str, Path], seconds: int) -> dict:
    """py-spy flame graphs of one worker during the list scenario: the project's every thread
    that is not idle, the project's GIL holder only (--gil: where the CPU goes), the baseline's.
    """
    py_spy = BIN / "py-spy"
    if not py_spy.exists():
        log("py-spy is not installed in the venv: no profile (pip install py-spy)")
        return {}
    outputs = {}
    passes = (
        ("project", "project", ["--format", "flamegraph"], "svg"),
        ("project-gil", "project", ["--gil", "--format", "flamegraph"], "svg"),
        # Collapsed stacks of the same, summed by package in the report.
        ("project-gil", "project", ["--gil", "--format", "raw"], "txt"),
        ("baseline", "baseline", ["--format", "flamegraph"], "svg"),
    )
    for label, app, extra, suffix in passes:
        pid = served.uvicorns[app][0].worker_pids()[0]
        svg = config.out_dir / f"{config.name}-flame-{label}-list.{suffix}"
        spy = subprocess.Popen(
            [str(py_spy), "record", "-p", str(pid), "-d", str(seconds), "-r", "200",
             "-o", str(svg), *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(0.5)
        wrk(served.url(app), data_files[app], "list", connections=config.connections,
            seconds=seconds)  # fmt: skip
        _, err = spy.communicate(timeout=60)
        if spy.returncode != 0:
            log(f"py-spy failed for {label}: {err[-500:]}")
            continue
        outputs[f"{label}.{suffix}"] = svg.name
    return outputs


def bench_dataset(
    config: Config,
    pg: PostgresServer,
    env: dict[str, str],
    dataset: DataSet,
    workdir: Path,
    results: dict,
) -> None:
    is_main = dataset is config.main
    database = f"bench_{dataset.name.lower()}"
    pg.create_database(database)
    env = {**env, "DATABASE_URL": pg.url(database)}
    conninfo = f"host=127.0.0.1 port={pg.port} user=postgres dbname={database}"

    log(f"{dataset.name}: migrate, seed {dataset.total_tasks:,} tasks")
    prepared = django_side(env, "prepare")
    seed(conninfo, dataset, password_hash=prepared["password_hash"], log=log)

    regular = max(1, dataset.users // config.token_users)
    token_user_ids = list(range(1, dataset.users + 1, regular))[: config.token_users]
    deep_ids = dataset.deep_user_ids()
    shared_ids = dataset.shared_member_ids()
    tokens = django_side(env, "tokens", *map(str, token_user_ids + deep_ids + shared_ids))
    ids = task_ids_by_owner(conninfo, token_user_ids + deep_ids)
    filtered_labels = filtered_label_by_owner(conninfo, token_user_ids)
    # Retrieve with a token: the same users and tasks as retrieve, each with a personal access
    # token (tasks:read) instead of its JWT.
    personal = {}
    if any(spec.measures("token-retrieve") for spec in config.apps.values()):
        personal = django_side(env, "pats", *map(str, token_user_ids))["tokens"]

    # Apps measured on a few scenarios only (the floor) are served on the main data set only.
    apps = {name: spec for name, spec in config.apps.items() if spec.serves_everything or is_main}
    (workdir / dataset.name).mkdir()
    served = serve(env, workdir / dataset.name, config.workers, apps)
    try:
        data_files = {}
        path_users_by_app = {}
        feeds = {}
        first_pages = {}
        for app, spec in apps.items():
            url = served.url(app)
            users = [{"token": tokens[str(pk)], "ids": ids[pk]} for pk in token_user_ids]
            data_files[app] = workdir / f"data-{dataset.name}-{app}.lua"
            write_lua_data(data_files[app], users)
            # The deep-page users' URLs, walked from this app's own cursors and sync tokens.
            path_users, feeds[app] = walk_paths(url, spec, tokens, ids, deep_ids)
            if spec.measures("labelled"):
                path_users["labelled"] = [
                    {
                        "token": tokens[str(pk)],
                        "ids": ids[pk],
                        "label": filtered_labels[pk],
                        "path": LABELLED_PATH.format(label_id=filtered_labels[pk]),
                    }
                    for pk in token_user_ids
                ]
            if spec.measures("shared") and shared_ids:
                path_users["shared"] = [
                    {"token": tokens[str(pk)], "ids": [], "path": SHARED_PATH} for pk in shared_ids
                ]
            if spec.measures("token-retrieve"):
                path_users["token-retrieve"] = [
                    {"token": personal[str(pk)], "ids": ids[pk]} for pk in token_user_ids
                ]
                first_use(url, app, path_users["token-retrieve"])
            for scenario, scenario_users in path_users.items():
                data_files[f"{app}-{scenario}"] = (
                    workdir / f"data-{dataset.name}-{app}-{scenario}.lua"
                )
                write_lua_data(data_files[f"{app}-{scenario}"], scenario_users)
            path_users_by_app[app] = path_users
            first_pages[app] = preflight(
                url, app, spec, users[0], {s: u[0] for s, u in path_users.items()}
            )
            # Warm every worker: imports, pools, token-version cache.
            warm = "list" if spec.measures("list") else next(filter(spec.measures, SCENARIOS))
            wrk(
                url,
                data_files.get(f"{app}-{warm}", data_files[app]),
                warm,
                connections=config.connections,
                seconds=max(2, config.warmup),
            )

        same_feed(feeds)
        same_pages(first_pages)
        if any(spec.role == "peer" for spec in apps.values()):
            deep_user = deep_ids[0]
            bodies = {
                app: peer_bodies(served.url(app), app, tokens[str(deep_user)], ids[deep_user][0])
                for app, spec in apps.items()
                if app == "project" or spec.role == "peer"
            }
            same_bodies(bodies)
            results["peer_bodies"] = {app: sorted(by_name) for app, by_name in bodies.items()}
        project_paths = {s: u[0] for s, u in path_users_by_app["project"].items()}
        if "changes" in project_paths:
            # The feed's queries and plans on every data set (the issue: same cost at 10k, 1M).
            results.setdefault("feed_queries", {})[dataset.name] = django_side(
                env,
                "queries",
                str(write_spec(workdir, f"feed-{dataset.name}", feed_spec(project_paths))),
            )
        if "labelled" in project_paths:
            # The same for the label-filtered list (the labels' issue: index-backed, flat).
            results.setdefault("label_queries", {})[dataset.name] = django_side(
                env,
                "queries",
                str(write_spec(workdir, f"labels-{dataset.name}", label_spec(project_paths))),
            )
        if "shared" in project_paths:
            # The shared list's queries and plans (issue 26: index-backed, EXPLAIN in the report).
            results.setdefault("shared_queries", {})[dataset.name] = django_side(
                env,
                "queries",
                str(write_spec(workdir, f"shared-{dataset.name}", shared_spec(project_paths))),
            )
        if is_main:
            # Before the write scenarios change what the token users' lists hold.
            results["queries"] = count_queries(
                env, tokens, ids, token_user_ids, project_paths, workdir, personal
            )
        stats = Statements(pg, database)
        scenarios = list(SCENARIOS) if is_main else list(COMPARED)
        runs = results["runs"]

        def run(scenario: str, app: str, connections: int, seconds: int) -> None:
            data_file = data_files.get(f"{app}-{scenario}", data_files[app])
            runs.append(
                measure(
                    config, served, stats, data_file, dataset, scenario, app, connections, seconds
                )
            )

        for scenario in scenarios:
            if scenario == "patch" and is_main:
                sweep(config, apps, served, stats, data_files, dataset, runs)
            for app, spec in apps.items():
                if spec.measures(scenario):
                    run(scenario, app, config.connections, config.duration)
        if len(config.datasets) > 1:
            # The data-size comparison one request at a time as well: at 64 connections the
            # median is mostly queueing, so it moves with whatever else the machine runs.
            for scenario in COMPARED:
                if any(
                    (r.scenario, r.connections, r.dataset) == (scenario, 1, dataset.name)
                    for r in runs
                ):
                    continue  # the sweep measured it (the list, on the main data set)
                for app, spec in apps.items():
                    if spec.serves_everything and spec.measures(scenario):
                        run(scenario, app, 1, config.sweep_duration)
        if is_main and apps["project"].measures("create"):
            # After every run: its deletes send the deep-page user's tasks to the trash.
            results["bulk_queries"] = count_bulk_queries(
                env, conninfo, tokens, deep_ids[0], workdir
            )
            if config.profile:
                results["profiles"] = profile(config, served, data_files, 10)
                raw = results["profiles"].get("project-gil.txt")
                if raw:
                    results["profile_by_package"] = self_time_by_package(config.out_dir / raw)
            results["memory_kib"] = {
                app: {str(pid): rss_kib(pid) for u in group for pid in u.worker_pids()}
                for app, group in served.uvicorns.items()
            }
    finally:
        served.stop()


def sweep(config, apps, served, stats, data_files, dataset, runs) -> None:
    for connections in config.sweep:
        if connections == config.connections:
            continue  # the main run of the list scenario gives this point
        for app, spec in apps.items():
            if not (spec.serves_everything and spec.measures("list")):
                continue
            runs.append(
                measure(
                    config,
                    served,
                    stats,
                    data_files[app],
                    dataset,
                    "list",
                    app,
                    connections,
                    config.sweep_duration,
                )
            )


def same_feed(feeds: dict[str, dict]) -> None:
    """Every app that serves the changes feed walked the same pages: the same task and deleted
    ids, page by page (the baseline does the project's work, not less)."""
    walked = {app: pages for app, pages in feeds.items() if pages}
    if "project" not in walked:
        return
    for app, pages in walked.items():
        if pages != walked["project"]:
            raise RuntimeError(f"{app}'s changes feed gave other pages than the project's")


def feed_spec(paths: dict[str, dict]) -> dict:
    """The changes feed's requests for the in-process count, as a deep-page user."""
    changes, latest = paths["changes"]["path"], paths["changes-empty"]["path"]
    return {
        "token": paths["changes"]["token"],
        "requests": {
            "changes": {"method": "GET", "path": changes, "explain": True},
            "changes page_size=500": {"method": "GET", "path": f"{changes}&page_size=500"},
            "changes full sync": {"method": "GET", "path": "/tasks/changes/"},
            "changes-empty": {"method": "GET", "path": latest, "explain": True},
        },
    }


def label_spec(paths: dict[str, dict]) -> dict:
    """The label-filtered list's requests for the in-process count, as a token user."""
    labelled = paths["labelled"]["path"]
    return {
        "token": paths["labelled"]["token"],
        "requests": {
            "labelled": {"method": "GET", "path": labelled, "explain": True},
            "labelled page_size=100": {
                "method": "GET",
                "path": labelled.replace("page_size=20", "page_size=100"),
                "explain": True,
            },
        },
    }


def shared_spec(paths: dict[str, dict]) -> dict:
    """The shared list's requests for the in-process count, as a member of the shared projects:
    the first page, a larger one, and the filtered list (due_date walks two segments)."""
    return {
        "token": paths["shared"]["token"],
        "requests": {
            "shared": {"method": "GET", "path": SHARED_PATH, "explain": True},
            "shared page_size=100": {
                "method": "GET",
                "path": SHARED_PATH.replace("page_size=20", "page_size=100"),
                "explain": True,
            },
            "shared filtered": {
                "method": "GET",
                "path": "/tasks/?completed=false&ordering=-due_date",
                "explain": True,
            },
        },
    }


# POST /tasks/bulk/ with 1, 10 and 100 operations of each kind: the issue asks that statements
# per operation stay constant as the batch grows.
BULK_SIZES = (1, 10, 100)


def bulk_spec(token: str, task_ids: list[int]) -> dict:
    """Creates, then updates of the user's first tasks, then deletes of tasks no batch before
    touched (a deleted task would be a cheaper 404). Needs sum(BULK_SIZES) + max ids."""
    requests: dict[str, dict] = {}
    for size in BULK_SIZES:
        operations = [{"op": "create", "body": {"title": f"Bulk {i}"}} for i in range(size)]
        requests[f"bulk create x{size}"] = _bulk_request(operations)
    for size in BULK_SIZES:
        operations = [
            {"op": "update", "id": task_id, "body": {"completed": True, "title": "Bulk"}}
            for task_id in task_ids[:size]
        ]
        requests[f"bulk update x{size}"] = _bulk_request(operations)
    remaining = task_ids[max(BULK_SIZES) :]
    for size in BULK_SIZES:
        deleted, remaining = remaining[:size], remaining[size:]
        operations = [{"op": "delete", "id": task_id} for task_id in deleted]
        requests[f"bulk delete x{size}"] = _bulk_request(operations)
    return {"token": token, "requests": requests}


def _bulk_request(operations: list[dict]) -> dict:
    return {"method": "POST", "path": "/tasks/bulk/", "body": {"operations": operations}}


def count_bulk_queries(env, conninfo, tokens, user, workdir) -> dict:
    needed = max(BULK_SIZES) + sum(BULK_SIZES)
    task_ids = task_ids_by_owner(conninfo, [user], limit=needed)[user]
    if len(task_ids) < needed:
        raise RuntimeError(
            f"user {user} has {len(task_ids)} live tasks, the bulk count needs {needed}"
        )
    counted = django_side(
        env, "queries", str(write_spec(workdir, "bulk", bulk_spec(tokens[str(user)], task_ids)))
    )
    for name, q in counted.items():
        q["operations"] = int(name.rsplit("x", 1)[1])
        q.pop("sql", None)  # up to 300 statements each: the counts are what the report shows
    return counted


def write_spec(workdir: Path, name: str, spec: dict) -> Path:
    path = workdir / f"queries-{name}.json"
    path.write_text(json.dumps(spec))
    return path


def count_queries(env, tokens, ids, token_user_ids, paths, workdir, personal=None) -> dict:
    """The project's queries per request of every scenario measured (of which the URLs of the
    path scenarios were walked), in-process, with EXPLAIN of the reads; retrieve with a token
    as the same user, after the token's first use (the warm-up request)."""
    user = token_user_ids[0]
    if "labelled" in paths and paths["labelled"]["token"] != tokens[str(user)]:
        raise RuntimeError("the labelled list is counted as another user than the list")
    task_id = ids[user][1]
    spec = {
        "token": tokens[str(user)],
        "requests": {
            "list": {"method": "GET", "path": "/tasks/?page_size=20", "explain": True},
            "list page_size=100": {"method": "GET", "path": "/tasks/?page_size=100"},
            "filtered": {
                "method": "GET",
                "path": "/tasks/?completed=false&ordering=-due_date",
                "explain": True,
            },
            "filtered page_size=100": {
                "method": "GET",
                "path": "/tasks/?completed=false&ordering=-due_date&page_size=100",
            },
            # The same user's filtered label (paths["labelled"] is the first token user's).
            **(label_spec(paths)["requests"] if "labelled" in paths else {}),
            "retrieve": {"method": "GET", "path": f"/tasks/{task_id}/", "explain": True},
            "patch": {
                "method": "PATCH",
                "path": f"/tasks/{task_id}/",
                "body": {"completed": True, "title": "Counted"},
            },
            "create": {
                "method": "POST",
                "path": "/tasks/",
                "body": {"title": "Counted", "priority": "low"},
            },
        },
    }
    specs = [("tasks", spec)]
    if personal:
        token_spec = {"method": "GET", "path": f"/tasks/{task_id}/", "explain": True}
        specs.append(
            ("token", {"token": personal[str(user)], "requests": {"token-retrieve": token_spec}})
        )
    if "deep" in paths:
        specs.append(("deep", _deep_spec(paths)))
    if "shared" in paths:
        specs.append(("shared", shared_spec(paths)))
    counted = {}
    for name, body in specs:
        counted.update(django_side(env, "queries", str(write_spec(workdir, name, body))))
    return counted


def _deep_spec(paths: dict[str, dict]) -> dict:
    """The deep-page user's requests: page 51, the changes feed and the trash."""
    deep_path = paths["deep"]["path"]
    return {
        "token": paths["deep"]["token"],
        "requests": {
            "deep": {"method": "GET", "path": deep_path, "explain": True},
            "deep page_size=100": {
                "method": "GET",
                "path": deep_path.replace("page_size=20", "page_size=100"),
            },
            **feed_spec(paths)["requests"],
            "trash": {"method": "GET", "path": TRASH_PATH, "explain": True},
            "trash page_size=100": {
                "method": "GET",
                "path": TRASH_PATH.replace("page_size=20", "page_size=100"),
            },
        },
    }


# --- main --------------------------------------------------------------------------------------
def _python_name(python: Path) -> str:
    version = subprocess.run(
        [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return f"python{version}"


def _python_variant(python: Path) -> AppSpec:
    return AppSpec(
        APPS["project"].app,
        "variant",
        python=str(python.absolute()),
        about=f"the project on {_python_name(python)}",
    )


def parse(argv: list[str]) -> Config:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny data, seconds per scenario")
    parser.add_argument("--profile", action="store_true", help="py-spy flame graphs of a worker")
    parser.add_argument("--duration", type=int, help="seconds per measured scenario")
    parser.add_argument("--workers", type=int, default=cores(), help="Uvicorn workers in all")
    parser.add_argument("--out", type=Path, help="directory for the results")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        choices=sorted(VARIANTS),
        help="also serve the project this way (run.py's VARIANTS), side by side",
    )
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        type=Path,
        help="also serve the project with this interpreter (a virtualenv's python with the "
        "project's pinned dependencies; `make bench-pythons` builds them), side by side",
    )
    parser.add_argument(
        "--experiment",
        action="store_true",
        help="every variant, 10k tasks only, 5 s a scenario at 64 connections",
    )
    parser.add_argument(
        "--floor",
        action=argparse.BooleanOptionalAction,
        help="also serve the framework floor apps (bench/django_floor) on the main data set, "
        "list and retrieve only; default: on in a full run, off with --smoke or --experiment",
    )
    parser.add_argument(
        "--peers",
        action=argparse.BooleanOptionalAction,
        help="also serve the peers (bench/peers: the FastAPI template's way, django-ninja's) on "
        "the main data set; default: on, off with --experiment",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=list(SCENARIOS),
        help="measure only this scenario (repeatable), on every app that serves it",
    )
    parser.add_argument(
        "--data",
        action="append",
        choices=list(DATASETS),
        help="run on this data set (repeatable, in order; the last is the main one); default: "
        "tiny with --smoke, 10k with --experiment, else 10k and 1M",
    )
    args = parser.parse_args(argv)
    peers = args.peers if args.peers is not None else not args.experiment
    floor = args.floor if args.floor is not None else not (args.smoke or args.experiment)
    if args.experiment and not (args.variant or args.python):
        args.variant = sorted(VARIANTS)
    if args.experiment:
        datasets = ["10k"]
        duration, warmup, sweep_duration, sweep_points, token_users = 5, 1, 5, [64], 256
    elif args.smoke:
        datasets = ["tiny"]
        duration, warmup, sweep_duration, sweep_points, token_users = 2, 0, 2, [1, 64], 20
    else:
        datasets = ["10k", "1M"]
        duration, warmup, sweep_duration, sweep_points, token_users = (
            15,
            2,
            10,
            [1, 16, 64, 256],
            256,
        )
    return Config(
        smoke=args.smoke,
        duration=args.duration or duration,
        warmup=warmup,
        sweep_duration=min(sweep_duration, args.duration or sweep_duration),
        connections=64,
        sweep=sweep_points,
        datasets=[DATASETS[name] for name in args.data or datasets],
        token_users=token_users,
        workers=args.workers,
        profile=args.profile,
        out_dir=args.out or BENCH / "results",
        keep=args.keep,
        apps={
            name: dataclasses.replace(spec, only=tuple(args.scenario) if args.scenario else None)
            for name, spec in {
                "project": APPS["project"],
                **{name: VARIANTS[name] for name in args.variant},
                **{_python_name(path): _python_variant(path) for path in args.python},
                "baseline": APPS["baseline"],
                **(FLOOR_APPS if floor else {}),
                **(PEER_APPS if peers else {}),
            }.items()
            # An app that serves none of the scenarios asked for is not served.
            if not args.scenario or any(spec.measures(name) for name in args.scenario)
        },
    )


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop every process


def main(argv: list[str] | None = None) -> int:
    config = parse(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    started = time.monotonic()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    has_variants = any(spec.role == "variant" for spec in config.apps.values())
    kind = "smoke-" if config.smoke else "experiment-" if has_variants else ""
    name = f"bench-{kind}{stamp}"
    config.name = name
    config.out_dir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="taskapi-bench-"))
    results: dict = {
        "name": name,
        "smoke": config.smoke,
        "started": stamp,
        "machine": report.machine(config.workers),
        "loadavg_start": os.getloadavg(),
        "datasets": {d.name: asdict(d) | {"total_tasks": d.total_tasks} for d in config.datasets},
        "config": {
            "duration_s": config.duration,
            "warmup_s": config.warmup,
            "sweep_duration_s": config.sweep_duration,
            "connections": config.connections,
            "sweep": config.sweep,
            "workers": config.workers,
            "token_users": config.token_users,
            "compared": list(COMPARED),
        },
        "apps": {name: asdict(spec) for name, spec in config.apps.items()},
        "runs": [],
    }
    log(f"workdir {workdir}; load average {os.getloadavg()}")
    pg = redis = None
    try:
        pg = PostgresServer.start()
        enable_pg_stat_statements(
            pg,
            shared_buffers="128MB" if config.smoke else "512MB",
            max_connections=100 + 70 * len(config.apps),  # pools of up to 32, two instances
        )
        redis = RedisServer.start(workdir)
        env = app_environment(
            REDIS_URL=redis.url(),
            TRUSTED_PROXIES="127.0.0.1",
            ACCESS_TOKEN_LIFETIME="7200",  # noqa: S106  (seconds: the tokens outlive the run)
            PYTHONUNBUFFERED="1",
            **TOKEN_RATE_LIMITS,  # counted as in production, never reached: no 429 in a run
        )
        for dataset in config.datasets:
            bench_dataset(config, pg, env, dataset, workdir, results)
    finally:
        for server in (redis, pg):
            if server is not None:
                with contextlib.suppress(Exception):
                    server.stop()
        if config.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results["loadavg_end"] = os.getloadavg()
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    runs = results["runs"]
    results["runs"] = [asdict(run) for run in runs]
    markdown = report.markdown(results)
    (config.out_dir / f"{name}.json").write_text(json.dumps(results, indent=1))
    (config.out_dir / f"{name}.md").write_text(markdown)
    with contextlib.suppress(ImportError):
        report.plot(results, config.out_dir / f"{name}.png")
    print(markdown)
    log(f"done in {results['elapsed_s']} s: {config.out_dir / name}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
