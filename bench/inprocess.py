"""CPU per request of the read path in-process, for several revisions of the project in one run.

  python -m bench.inprocess                        main against the working tree
  python -m bench.inprocess --rev A --rev B        any git revisions (WORKTREE: this tree)
  python -m bench.inprocess --floor                plus bench/django_floor's app

A private PostgreSQL and Redis. Each revision is checked out into a temporary git worktree,
gets a database of its own migrated by its own code and seeded by bench/seed.py with the 10k
data set (20 shared projects of 500 tasks included; on a revision from before projects the same
users and tasks without them), and is served by a child process with the app's environment (its
own `src` first on PYTHONPATH) that calls Django's WSGI handler directly, as asgi.py's a2wsgi
does, one thread, real access tokens of 20 users in turn (the shared list: the shared projects'
member). Rounds alternate the revisions; each prints CPU ms per request (time.process_time())
per scenario; the summary is the median of the rounds and its ratio to the first revision, and
the targets of bench/scenarios.py that these figures decide: the plain list against the first
revision (PLAIN_LIST_TARGET, e.g. `--rev c1c9804^`: before projects) and the shared list
against the same revision's plain list (SHARED_CPU_TARGET).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKTREE = "WORKTREE"
SCENARIOS = {  # name: path ({id} is one of the user's tasks)
    "list": "/tasks/?page_size=20",
    "filtered": "/tasks/?completed=false&ordering=-due_date",
    "retrieve": "/tasks/{id}/",
    "shared": "/tasks/?page_size=20",  # as the member of the shared projects
}
FLOOR_SCENARIOS = ("list", "retrieve")  # the floor serves these two only
PROJECT_SCENARIOS = ("shared",)  # only revisions with projects serve these
USERS = 20


# --- the child: one revision, Django's WSGI handler called directly ---------------------------
def child() -> None:
    import django
    from django.core.wsgi import get_wsgi_application

    # The answers go to the parent on the real stdout; the app's log lines (stdout) to stderr.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    django.setup()
    handler = get_wsgi_application()
    spec = json.loads(sys.stdin.readline())
    users_of = spec["users"]  # scenario: [[token, task id], ...]

    def call(path: str, token: str) -> None:
        route, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": route,
            "QUERY_STRING": query,
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "localhost",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
        }
        statuses = []
        body = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(body)
        body.close()
        if not statuses[0].startswith("200"):
            raise SystemExit(f"{path}: {statuses[0]}")

    def run(name: str, count: int) -> float:
        path, users = spec["paths"][name], users_of[name]
        started = time.process_time()
        for i in range(count):
            token, task_id = users[i % len(users)]
            call(path.format(id=task_id), token)
        return (time.process_time() - started) * 1000 / count

    print("ready", file=answers, flush=True)
    for line in sys.stdin:  # "scenario count"
        name, count = line.split()
        run(name, max(int(count) // 10, USERS))  # warm-up
        print(json.dumps(run(name, int(count))), file=answers, flush=True)


# --- the parent ---------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rev", action="append", help=f"git revision, or {WORKTREE}")
    parser.add_argument("--floor", action="store_true", help="add bench/django_floor's app")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("-n", "--requests", type=int, default=500, help="per scenario and round")
    parser.add_argument("--python", default=sys.executable, help="the children's interpreter")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child()
    revs = args.rev or ["main", WORKTREE]

    from bench.seed import DataSet
    from tests.support.servers import REPO, app_environment
    from tests.support.services import PostgresServer, RedisServer

    workdir = Path(tempfile.mkdtemp(prefix="taskapi-inprocess-"))
    pg = PostgresServer.start()
    redis = RedisServer.start(workdir)
    children: dict[str, subprocess.Popen[str]] = {}
    trees: list[Path] = []
    try:
        env = app_environment(
            REDIS_URL=redis.url(),
            ACCESS_TOKEN_LIFETIME="7200",  # noqa: S106  (seconds)
        )
        dataset = DataSet("10k", users=100, shared_tasks=500)
        apps = {}  # label: (tree, settings module, environment, users by scenario)
        for index, rev in enumerate(revs):
            if rev == WORKTREE:
                tree = REPO
            else:
                tree = workdir / f"rev-{len(trees)}"
                git("worktree", "add", "--detach", str(tree), rev)
                trees.append(tree)
            # Each revision its own database, migrated by its own code: revisions on both
            # sides of a migration (projects) compare on the schema each was written for.
            database = f"bench_{index}"
            pg.create_database(database)
            rev_env = {
                **env,
                "DATABASE_URL": pg.url(database),
                "PYTHONPATH": os.pathsep.join([str(tree / "src"), str(REPO)]),
            }
            conninfo = f"host=127.0.0.1 port={pg.port} dbname={database}"
            users = _seeded(rev_env, conninfo, dataset)
            apps[rev] = (tree, "taskapi.settings.base", rev_env, users)
        if args.floor:
            # The floor's SQL is the current schema's: the database of a revision with projects.
            on_projects = [a for a in apps.values() if "shared" in a[3]]
            if not on_projects:
                raise SystemExit("--floor needs a revision with projects")
            _tree, _settings, floor_env, floor_users = on_projects[-1]
            apps["django-floor"] = (REPO, "bench.django_floor.settings", floor_env, floor_users)
        for label, (tree, settings, rev_env, users) in apps.items():
            child_env = {
                **rev_env,
                "DJANGO_SETTINGS_MODULE": settings,
                "PYTHONPATH": os.pathsep.join([str(tree / "src"), str(REPO)]),
            }
            children[label] = subprocess.Popen(
                [args.python, "-m", "bench.inprocess", "--child"],
                env=child_env,
                cwd=REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=(workdir / f"{label}.log").open("w"),  # the app's log lines
                text=True,
            )
            children[label].stdin.write(json.dumps({"users": users, "paths": SCENARIOS}) + "\n")
            children[label].stdin.flush()
            if children[label].stdout.readline().strip() != "ready":
                raise SystemExit(f"{label}: the child did not start")

        figures: dict[str, dict[str, list[float]]] = {label: {} for label in apps}
        for round_ in range(1, args.rounds + 1):
            for label, process in children.items():
                for name in SCENARIOS:
                    if label == "django-floor" and name not in FLOOR_SCENARIOS:
                        continue
                    if name not in apps[label][3]:
                        continue  # a revision from before projects: no shared list
                    process.stdin.write(f"{name} {args.requests}\n")
                    process.stdin.flush()
                    answer = json.loads(process.stdout.readline())
                    figures[label].setdefault(name, []).append(answer)
                row = " ".join(f"{n} {v[-1]:.3f}" for n, v in figures[label].items())
                log(f"round {round_} {label}: {row}")
        print(table(figures, revs[0], args))
    finally:
        for process in children.values():
            with contextlib.suppress(Exception):
                process.stdin.close()
                process.wait(timeout=10)
        for tree in trees:
            git("worktree", "remove", "--force", str(tree))
        redis.stop()
        pg.stop()
        log(f"logs in {workdir}")


def _seeded(env: dict[str, str], conninfo: str, dataset) -> dict[str, list[list]]:
    """Migrate and seed one revision's database; the users of each scenario, [[token, task
    id], ...], as that revision's own token code issues them."""
    import psycopg

    from bench.seed import has_projects, seed, task_ids_by_owner

    prepared = django_side(env, "prepare")
    conninfo = f"{conninfo} user=postgres"
    with psycopg.connect(conninfo) as conn:
        projects = has_projects(conn)
    data = dataset if projects else dataset.without_projects()
    seed(conninfo, data, password_hash=prepared["password_hash"], log=log)
    owners = list(range(1, USERS + 1))
    members = data.shared_member_ids()
    tokens = django_side(env, "tokens", *map(str, owners + members))
    ids = task_ids_by_owner(conninfo, owners)
    users = {name: [[tokens[str(owner)], ids[owner][0]] for owner in owners] for name in SCENARIOS}
    if members:
        users["shared"] = [[tokens[str(member)], 0] for member in members]
    else:
        for name in PROJECT_SCENARIOS:
            del users[name]
    return users


def table(figures: dict[str, dict[str, list[float]]], first: str, args: argparse.Namespace) -> str:
    lines = [
        f"CPU ms per request, median of {args.rounds} rounds of {args.requests} "
        f"(ratio to {first}); load average {os.getloadavg()[0]:.1f}",
        "",
        "| Revision | " + " | ".join(SCENARIOS) + " |",
        "|---" * (len(SCENARIOS) + 1) + "|",
    ]
    base = {name: statistics.median(values) for name, values in figures[first].items()}
    for label, scenarios in figures.items():
        cells = []
        for name in SCENARIOS:
            if name not in scenarios:
                cells.append("-")
                continue
            median = statistics.median(scenarios[name])
            ratio = f" ({median / base[name]:.2f}x)" if name in base else ""
            cells.append(f"{median:.3f}{ratio}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", *targets(figures, first)])


def targets(figures: dict[str, dict[str, list[float]]], first: str) -> list[str]:
    """bench/scenarios.py's targets that these figures decide, as `- ...: yes/**NO**` lines."""
    from bench.scenarios import PLAIN_LIST_TARGET, SHARED_CPU_TARGET

    def ok(passed: bool) -> str:
        return "yes" if passed else "**NO**"

    medians = {
        label: {name: statistics.median(values) for name, values in scenarios.items()}
        for label, scenarios in figures.items()
    }
    lines = []
    for label, by_name in medians.items():
        if label in (first, "django-floor"):
            continue
        if "list" in by_name and "list" in medians[first]:
            ratio = by_name["list"] / medians[first]["list"]
            lines.append(
                f"- list, {label} against {first}: {ratio:.2f}x (≤ {PLAIN_LIST_TARGET}x): "
                f"{ok(ratio <= PLAIN_LIST_TARGET)}"
            )
    for label, by_name in medians.items():
        if "shared" in by_name and "list" in by_name:
            ratio = by_name["shared"] / by_name["list"]
            lines.append(
                f"- shared against list, {label}: {ratio:.2f}x (≤ {SHARED_CPU_TARGET}x): "
                f"{ok(ratio <= SHARED_CPU_TARGET)}"
            )
    return lines


def django_side(env: dict[str, str], *args: str) -> dict:
    from tests.support.servers import REPO

    result = subprocess.run(
        [sys.executable, "-m", "bench.django_side", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def git(*args: str) -> None:
    subprocess.run(["git", *args], check=True, capture_output=True)


def log(message: str) -> None:
    print(f"[inprocess {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
