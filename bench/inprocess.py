"""CPU per request of the read path in-process, for several revisions of the project in one run.

  python -m bench.inprocess                        main against the working tree
  python -m bench.inprocess --rev A --rev B        any git revisions (WORKTREE: this tree)
  python -m bench.inprocess --floor                plus bench/django_floor's app
  python -m bench.inprocess --rev HEAD --scenario retrieve --scenario token-retrieve
                                                   only these scenarios
  python -m bench.inprocess --profile token-retrieve  and its requests under cProfile after
                                                   the rounds (the .prof paths are logged)

A private PostgreSQL and Redis. Each revision is checked out into a temporary git worktree,
gets a database of its own migrated by its own code and seeded by bench/seed.py with the 10k
data set (20 shared projects of 500 tasks included; on a revision from before projects the same
users and tasks without them), and is served by a child process with the app's environment (its
own `src` first on PYTHONPATH) that calls Django's WSGI handler directly, as asgi.py's a2wsgi
does, one thread, real access tokens of 20 users in turn (the shared list: the shared projects'
member; retrieve with a token: a personal access token with tasks:read of the same 20 users,
on a revision that has them). The children count token requests against bench/scenarios.py's
TOKEN_RATE_LIMITS, which no run reaches; each revision with access tokens also gets a second
child at the revision's default limits (its own Redis database, so its own counters), measured
on retrieve and retrieve with a token: the limits' cache work is the same at any limit, and
this shows it. Rounds alternate the revisions; each prints CPU ms per request
(time.process_time()) per scenario, retrieve and retrieve with a token measured in turns of 20
requests each (PAIRED); the summary is the median of the rounds and its ratio to
the first revision, the database statements per request of each scenario after the rounds
(every token past its first use), and the targets of bench/scenarios.py that these figures
decide: the plain list against the first revision (PLAIN_LIST_TARGET, e.g. `--rev c1c9804^`:
before projects), the shared list against the same revision's plain list (SHARED_CPU_TARGET),
and retrieve with a token against retrieve with a JWT, same child (TOKEN_CPU_TARGET).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.scenarios import TOKEN_CPU_TARGET, TOKEN_RATE_LIMITS

WORKTREE = "WORKTREE"
SCENARIOS = {  # name: path ({id} is one of the user's tasks)
    "list": "/tasks/?page_size=20",
    "filtered": "/tasks/?completed=false&ordering=-due_date",
    "retrieve": "/tasks/{id}/",
    "token-retrieve": "/tasks/{id}/",  # with a personal access token (tasks:read)
    "shared": "/tasks/?page_size=20",  # as the member of the shared projects
}
FLOOR_SCENARIOS = ("list", "retrieve")  # the floor serves these two only
PROJECT_SCENARIOS = ("shared",)  # only revisions with projects serve these
TOKEN_SCENARIOS = ("token-retrieve",)  # only revisions with access tokens serve these
# The child at the revision's default token rate limits serves these.
DEFAULT_LIMITS_SCENARIOS = ("retrieve", "token-retrieve")
DEFAULT_LIMITS = "default token limits"
# Measured in turns of USERS requests each, not one after the other: their ratio is a target
# (TOKEN_CPU_TARGET), and load that comes and goes in between would otherwise be in it.
PAIRED = ("retrieve", "token-retrieve")
USERS = 20
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
WRITES = ("INSERT", "UPDATE", "DELETE")


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
        if statuses[0].startswith("429"):
            raise SystemExit(f"{path}: {statuses[0]}: a token rate limit; fewer rounds or requests")
        if not statuses[0].startswith("200"):
            raise SystemExit(f"{path}: {statuses[0]}")

    def run(name: str, count: int) -> float:
        path, users = spec["paths"][name], users_of[name]
        started = time.process_time()
        for i in range(count):
            token, task_id = users[i % len(users)]
            call(path.format(id=task_id), token)
        return (time.process_time() - started) * 1000 / count

    def paired(names: list[str], count: int) -> list[float]:
        """CPU ms per request of each scenario, run in turns of USERS requests each: the load
        that comes and goes on a shared machine falls on all of them alike."""
        spent = dict.fromkeys(names, 0.0)
        for start in range(0, count, USERS):
            for name in names:
                path, users = spec["paths"][name], users_of[name]
                started = time.process_time()
                for i in range(start, min(start + USERS, count)):
                    token, task_id = users[i % len(users)]
                    call(path.format(id=task_id), token)
                spent[name] += time.process_time() - started
        return [spent[name] * 1000 / count for name in names]

    def statements(name: str, count: int) -> dict[str, float]:
        """Statements per request that went through Django's cursors, by kind."""
        from django.db import connection

        kinds = {"reads": 0, "writes": 0, "transaction": 0}

        def counted(execute, sql, params, many, context):  # Django's execute_wrapper
            verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
            if verb in TRANSACTION_CONTROL:
                kinds["transaction"] += 1
            elif verb in WRITES or (verb == "WITH" and any(w in sql.upper() for w in WRITES)):
                kinds["writes"] += 1
            else:
                kinds["reads"] += 1
            return execute(sql, params, many, context)

        path, users = spec["paths"][name], users_of[name]
        with connection.execute_wrapper(counted):
            for i in range(count):
                token, task_id = users[i % len(users)]
                call(path.format(id=task_id), token)
        return {kind: value / count for kind, value in kinds.items()}

    print("ready", file=answers, flush=True)
    for line in sys.stdin:  # "scenario count", "pair scenario scenario count", "count ..."
        words = line.split()
        if words[0] == "count":
            print(json.dumps(statements(words[1], int(words[2]))), file=answers, flush=True)
            continue
        if words[0] == "profile":
            name, count, path = words[1], int(words[2]), words[3]
            profiler = cProfile.Profile()
            profiler.runcall(run, name, count)
            profiler.dump_stats(path)
            print(json.dumps(path), file=answers, flush=True)
            continue
        if words[0] == "pair":
            names, count = words[1:-1], int(words[-1])
            for name in names:
                run(name, max(count // 10, USERS))  # warm-up
            print(json.dumps(paired(names, count)), file=answers, flush=True)
            continue
        name, count = words
        run(name, max(int(count) // 10, USERS))  # warm-up
        print(json.dumps(run(name, int(count))), file=answers, flush=True)


# --- the parent ---------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rev", action="append", help=f"git revision, or {WORKTREE}")
    parser.add_argument("--floor", action="store_true", help="add bench/django_floor's app")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=list(SCENARIOS),
        help="measure only this scenario (repeatable); default: every one",
    )
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        choices=list(SCENARIOS),
        help="after the rounds, run this scenario's requests under cProfile in each child "
        "(repeatable); the stats files' paths are logged",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("-n", "--requests", type=int, default=500, help="per scenario and round")
    parser.add_argument("--python", default=sys.executable, help="the children's interpreter")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child()
    revs = args.rev or ["main", WORKTREE]
    scenarios = [name for name in SCENARIOS if not args.scenario or name in args.scenario]

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
            **TOKEN_RATE_LIMITS,
        )
        dataset = DataSet("10k", users=100, shared_tasks=500)
        apps = {}  # label: (tree, settings module, environment, users by scenario)
        notes: list[str] = []  # targets these figures cannot decide, and why
        limits_of: dict[str, tuple[str, str]] = {}  # default-limits child: (revision, limits)
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
            users, limits = _seeded(rev_env, conninfo, dataset)
            apps[rev] = (tree, "taskapi.settings.base", rev_env, users)
            if limits and "token-retrieve" in users and "token-retrieve" in scenarios:
                label = f"{rev}, {DEFAULT_LIMITS}"
                most = _requests_per_token(args, scenarios)
                if most > min(_rate_count(rate) for rate in limits.values()):
                    notes.append(
                        f"- token retrieve at the default token limits, {rev}: not measured; "
                        f"{most:,} requests a token in this run could cross "
                        f"{', '.join(limits.values())}"
                    )
                    continue
                # The revision's own defaults, and a Redis database of its own: the counters
                # of the other children's requests (the same tokens) are not its.
                default_env = {k: v for k, v in rev_env.items() if k not in TOKEN_RATE_LIMITS}
                default_env["REDIS_URL"] = f"{redis.url().rsplit('/', 1)[0]}/{index + 1}"
                only = {name: users[name] for name in DEFAULT_LIMITS_SCENARIOS if name in users}
                apps[label] = (tree, "taskapi.settings.base", default_env, only)
                limits_of[label] = (rev, ", ".join(limits.values()))
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

        def served(label: str) -> list[str]:
            return [
                name
                for name in scenarios
                if name in apps[label][3]  # not before projects (shared), or access tokens
                and (label != "django-floor" or name in FLOOR_SCENARIOS)
            ]

        def ask(process: subprocess.Popen[str], line: str) -> object:
            process.stdin.write(f"{line}\n")
            process.stdin.flush()
            answer = process.stdout.readline()
            if not answer:
                raise SystemExit(f"a child stopped at {line!r}: see its log in {workdir}")
            return json.loads(answer)

        figures: dict[str, dict[str, list[float]]] = {label: {} for label in apps}
        for round_ in range(1, args.rounds + 1):
            for label, process in children.items():
                names = served(label)
                for name in names:
                    if name in PAIRED and set(PAIRED) <= set(names):
                        if name == PAIRED[0]:
                            answer = ask(process, f"pair {' '.join(PAIRED)} {args.requests}")
                            for each, value in zip(PAIRED, answer, strict=True):
                                figures[label].setdefault(each, []).append(value)
                        continue
                    answer = ask(process, f"{name} {args.requests}")
                    figures[label].setdefault(name, []).append(answer)
                row = " ".join(f"{n} {v[-1]:.3f}" for n, v in figures[label].items())
                log(f"round {round_} {label}: {row}")
        # After the rounds: every token is past its first use (its entry cached).
        counts = {
            label: {name: ask(process, f"count {name} {_counted(args)}") for name in served(label)}
            for label, process in children.items()
        }
        for label, process in children.items():
            for name in args.profile:
                if name in served(label):
                    stats = workdir / f"{label.replace(', ', '-').replace(' ', '-')}-{name}.prof"
                    ask(process, f"profile {name} {args.requests} {stats}")
                    log(f"{label}, {name}: cProfile stats in {stats}")
        print(table(figures, revs[0], args, scenarios, counts, limits_of, notes))
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


def _counted(args: argparse.Namespace) -> int:
    """Requests a scenario's statements are counted over, after the rounds."""
    return max(USERS, args.requests // 5)


def _requests_per_token(args: argparse.Namespace, scenarios: list[str]) -> int:
    """The most requests one token gets in the run at the default limits (rounds, warm-ups and
    the count; tokens in turn): its rate limit cannot be crossed in any window below this."""
    per_round = args.requests + max(args.requests // 10, USERS)
    if "token-retrieve" not in scenarios:
        return 0
    return -(-(args.rounds * per_round + _counted(args)) // USERS)


def _rate_count(rate: str) -> int:
    """The requests a rate such as "600/minute" allows in one window."""
    return int(rate.partition("/")[0])


def _seeded(
    env: dict[str, str], conninfo: str, dataset
) -> tuple[dict[str, list[list]], dict[str, str]]:
    """Migrate and seed one revision's database; the users of each scenario, [[token, task
    id], ...], as that revision's own token code issues them, and the revision's default token
    rate limits (none before access tokens)."""
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
    # Without the benchmark's limits: the settings give the revision's defaults.
    defaults = {k: v for k, v in env.items() if k not in TOKEN_RATE_LIMITS}
    personal = django_side(defaults, "pats", *map(str, owners))
    ids = task_ids_by_owner(conninfo, owners)
    users = {name: [[tokens[str(owner)], ids[owner][0]] for owner in owners] for name in SCENARIOS}
    if members:
        users["shared"] = [[tokens[str(member)], 0] for member in members]
    else:
        for name in PROJECT_SCENARIOS:
            del users[name]
    if personal["tokens"]:
        for name in TOKEN_SCENARIOS:
            users[name] = [[personal["tokens"][str(owner)], ids[owner][0]] for owner in owners]
    else:
        for name in TOKEN_SCENARIOS:
            del users[name]
    return users, personal["limits"]


def table(
    figures: dict[str, dict[str, list[float]]],
    first: str,
    args: argparse.Namespace,
    scenarios: list[str] | None = None,
    counts: dict[str, dict[str, dict[str, float]]] | None = None,
    limits_of: dict[str, tuple[str, str]] | None = None,
    notes: list[str] | None = None,
) -> str:
    names = scenarios or list(SCENARIOS)
    header = ["| Revision | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    lines = [
        f"CPU ms per request, median of {args.rounds} rounds of {args.requests} "
        f"(ratio to {first}); load average {os.getloadavg()[0]:.1f}",
        "",
        *header,
    ]
    base = {name: statistics.median(values) for name, values in figures[first].items()}
    for label, by_name in figures.items():
        cells = []
        for name in names:
            if name not in by_name:
                cells.append("-")
                continue
            median = statistics.median(by_name[name])
            ratio = f" ({median / base[name]:.2f}x)" if name in base else ""
            cells.append(f"{median:.3f}{ratio}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if counts:
        lines += [
            "",
            f"Database statements per request after the rounds (every token past its first use), "
            f"over {_counted(args)} requests: reads, and writes where there were any",
            "",
            *header,
        ]
        for label, by_name in counts.items():
            cells = [_statements_cell(by_name[name]) if name in by_name else "-" for name in names]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    found = targets(figures, first, limits_of, counts)
    return "\n".join([*lines, "", *found, *(notes or [])])


def _statements_cell(count: dict[str, float]) -> str:
    writes = f" + {count['writes']:.2f} writes" if count["writes"] else ""
    return f"{count['reads']:.2f}{writes}"


def targets(
    figures: dict[str, dict[str, list[float]]],
    first: str,
    limits_of: dict[str, tuple[str, str]] | None = None,
    counts: dict[str, dict[str, dict[str, float]]] | None = None,
) -> list[str]:
    """bench/scenarios.py's targets that these figures decide, as `- ...: yes/**NO**` lines."""
    from bench.scenarios import PLAIN_LIST_TARGET, SHARED_CPU_TARGET

    def ok(passed: bool) -> str:
        return "yes" if passed else "**NO**"

    limits_of = limits_of or {}
    medians = {
        label: {name: statistics.median(values) for name, values in scenarios.items()}
        for label, scenarios in figures.items()
    }
    lines = []
    for label, by_name in medians.items():
        if label in (first, "django-floor") or label in limits_of:
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
    # Both from the same child, in turns (PAIRED): the median of the rounds' ratios, which the
    # load's coming and going between rounds moves far less than either figure.
    for label, by_name in medians.items():
        if "token-retrieve" in by_name and "retrieve" in by_name:
            token, jwt = by_name["token-retrieve"], by_name["retrieve"]
            rounds = figures[label]
            pairs = zip(rounds["token-retrieve"], rounds["retrieve"], strict=True)
            ratios = [t / j for t, j in pairs]
            ratio = statistics.median(ratios)
            limits = (
                f"the default limits ({limits_of[label][1]})"
                if label in limits_of
                else f"limits of {', '.join(TOKEN_RATE_LIMITS.values())}"
            )
            lines.append(
                f"- token retrieve CPU ≤ {TOKEN_CPU_TARGET}x JWT retrieve, {label}: {ratio:.2f}x "
                f"(median of the rounds' ratios, {min(ratios):.2f}-{max(ratios):.2f}; "
                f"{token:.3f} / {jwt:.3f} ms; tokens counted against {limits}): "
                f"{ok(ratio <= TOKEN_CPU_TARGET)}"
            )
    for label, by_name in (counts or {}).items():
        if "token-retrieve" in by_name and "retrieve" in by_name:
            token, jwt = by_name["token-retrieve"], by_name["retrieve"]
            lines.append(
                f"- token retrieve reads the database no more than JWT retrieve after a token's "
                f"first use, {label}: {token['reads']:.2f} / {jwt['reads']:.2f} reads a request: "
                f"{ok(token['reads'] <= jwt['reads'])}"
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
