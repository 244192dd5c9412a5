"""How long the projects migrations take on a large table (issue 26: "the migration's time on 1M
tasks goes in the note").

    python -m bench.migration_time                  1M tasks (10,000 users x 100 + the deep ones)
    python -m bench.migration_time --users 100      10k tasks

A fresh private PostgreSQL (tests/support/services.py, as the benchmark starts one). The
schema as it was before projects (`migrate tasks 0007`: tasks owned by users, no projects), the
1M data set of bench/seed.py seeded on it, then `migrate` to the end, timed as a whole and
migration by migration (Django's own timings, `-v 2`): projects 0001 and 0002 (an Inbox and its
membership for every user, in batches of users), tasks 0008 to 0010 (the owner becomes
created_by, the tasks move into their Inbox in batches of ids, the project becomes required and
the indexes are built again over it) and sync 0002 (the change log's unique key per reader).
Prints a Markdown table; the database is thrown away.
"""

from __future__ import annotations

import argparse
import functools
import re
import subprocess
import sys
import time

import psycopg
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX

from bench.seed import TASK_TABLE, DataSet, seed
from tests.support.servers import BIN, REPO, app_environment
from tests.support.services import PostgresServer

BEFORE_PROJECTS = ("tasks", "0007_trash_stray_subtasks")
# The migrations of projects; the others `migrate` applies (apps tasks 0007 does not need) are
# summed on one line.
PROJECTS_MIGRATIONS = re.compile(r"projects\.|tasks\.|sync\.")
APPLIED = re.compile(r"Applying (\S+)\.\.\. OK \(([\d.]+)s\)")


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "python"), "-m", "django", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return result.stdout


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000, help="users of 100 tasks each")
    args = parser.parse_args(argv)
    data = DataSet("before projects", users=args.users)
    pg = PostgresServer.start()
    try:
        pg.create_database("migrate")
        env = app_environment(DATABASE_URL=pg.url("migrate"))
        manage(env, "migrate", *BEFORE_PROJECTS, "-v", "0")
        conninfo = f"host=127.0.0.1 port={pg.port} user=postgres dbname=migrate"
        # Nobody logs in: every user's password is Django's unusable one.
        log = functools.partial(print, file=sys.stderr)
        seed(conninfo, data, password_hash=UNUSABLE_PASSWORD_PREFIX, log=log)
        started = time.monotonic()
        output = manage(env, "migrate", "-v", "2")
        elapsed = time.monotonic() - started
        with psycopg.connect(conninfo) as conn:
            (missing,) = conn.execute(
                f"SELECT count(*) FROM {TASK_TABLE} WHERE project_id IS NULL"
            ).fetchone()
    finally:
        pg.stop()
    lines = [
        f"`migrate` from tasks 0007 on {data.total_tasks:,} tasks of {data.total_users:,} users: "
        f"{elapsed:.1f} s in all (the command, Django's start-up included); tasks without a "
        f"project after it: {missing}.",
        "",
        "| Migration | Seconds |",
        "|---|---:|",
    ]
    applied = [(name, float(seconds)) for name, seconds in APPLIED.findall(output)]
    ours = [(name, seconds) for name, seconds in applied if PROJECTS_MIGRATIONS.match(name)]
    lines += [f"| {name} | {seconds:.1f} |" for name, seconds in ours]
    lines.append(f"| the {len(ours)} above | {sum(seconds for _n, seconds in ours):.1f} |")
    others = [seconds for name, seconds in applied if not PROJECTS_MIGRATIONS.match(name)]
    lines.append(f"| {len(others)} migrations of other apps | {sum(others):.1f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
