"""Bulk data for the benchmark: COPY straight into the project's tables after `migrate`.

Rows go in in time order, round-robin over the users (task j of every user, then task j+1 ...),
the way a real table fills up: one user's tasks are spread over the whole table, not packed
together on a few pages, so the figures at 1M tasks are not flattered by locality.

Every task gets its record in the change log the project's writes keep (taskapi.sync): numbered
per user in the order the tasks were written, as tasks/migrations/0003_sync_records.py numbers
existing tasks, with the per-user counter at the last number. One task in TRASH_EVERY of each
deep-page user is in the trash, trashed after every task was written: its record is a deletion
and the last of that user's log, as the project's DELETE leaves it.

Every user has LABELS_PER_USER labels, and each task 0 to 2 of them, by its place j in its
user's tasks: the user's first label (the filtered one, `filtered_label_by_owner`) on one task in
FILTERED_EVERY, one of the other four on every other task. The links go in with the tasks' own
write, so the change log needs nothing more.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import psycopg

USER_TABLE = "accounts_user"
TASK_TABLE = "tasks_task"
CHANGE_TABLE = "sync_change"
COUNTER_TABLE = "sync_changecounter"
LABEL_TABLE = "labels_label"
LINK_TABLE = "tasks_tasklabel"
SYNC_KIND = "task"  # taskapi.tasks.models.SYNC_KIND
TRASH_EVERY = 20  # of a deep-page user's tasks: 55 of 1,100 in the trash
TRASHED_AFTER = dt.timedelta(days=30)  # after the task was created: later than every write
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
DESCRIPTION = "Seeded by bench/seed.py: a description of typical length for a task, ~80 chars."
PRIORITIES = ("low", "medium", "high")
BLOCK_ROWS = 50_000
LABELS_PER_USER = 5
FILTERED_EVERY = 5  # the filtered label is on tasks j = 0, 5, 10 ...: 20 of 100, 220 of 1,100
LABEL_NAMES = ("Filtered", "Work", "Home", "Errand", "Later")  # the first is the filtered one
LABEL_COLORS = ("#d62728", "#1f77b4", None, "#2ca02c", "#ff7f0e")


@dataclass(frozen=True)
class DataSet:
    """`users` users with `tasks_per_user` tasks each, plus `deep_users` with `deep_tasks` each
    (enough to walk 50 pages of 20 and still have a page 51; their change logs are 1,100 long,
    and one of their tasks in TRASH_EVERY is in the trash)."""

    name: str
    users: int
    tasks_per_user: int = 100
    deep_users: int = 8
    deep_tasks: int = 1_100

    @property
    def total_tasks(self) -> int:
        return self.users * self.tasks_per_user + self.deep_users * self.deep_tasks

    @property
    def total_users(self) -> int:
        return self.users + self.deep_users

    def deep_user_ids(self) -> list[int]:
        # Users are numbered 1..users, then the deep ones.
        return list(range(self.users + 1, self.total_users + 1))

    def is_deep(self, owner: int) -> bool:
        return owner > self.users

    @property
    def trashed_per_deep_user(self) -> int:
        return self.deep_tasks // TRASH_EVERY


def _columns(conn: psycopg.Connection, table: str) -> dict[str, tuple[bool, bool]]:
    """column -> (nullable, has a database default or identity)."""
    rows = conn.execute(
        """
        SELECT column_name, is_nullable = 'YES',
               column_default IS NOT NULL OR is_identity = 'YES'
        FROM information_schema.columns WHERE table_name = %s
        """,
        (table,),
    ).fetchall()
    if not rows:
        raise RuntimeError(f"table {table} does not exist: has the project's migration landed?")
    return {name: (nullable, defaulted) for name, nullable, defaulted in rows}


def _check_covered(table: str, columns: dict[str, tuple[bool, bool]], given: list[str]) -> None:
    missing = [
        name
        for name, (nullable, defaulted) in columns.items()
        if name not in given and not nullable and not defaulted
    ]
    if missing:
        raise RuntimeError(f"bench/seed.py gives no value for {table}.{missing}: add them")


def _ts(moment: dt.datetime) -> str:
    return moment.isoformat()


def _copy_users(conn: psycopg.Connection, data: DataSet, password_hash: str) -> None:
    columns = _columns(conn, USER_TABLE)
    values = {
        "id": lambda i: str(i),
        "password": lambda i: password_hash,
        "last_login": lambda i: "\\N",
        "email": lambda i: f"bench-user-{i}@example.com",
        "date_joined": lambda i: _ts(T0),
        "is_active": lambda i: "t",
        "token_version": lambda i: "0",
    }
    given = [name for name in values if name in columns]
    _check_covered(USER_TABLE, columns, given)
    with conn.cursor().copy(f"COPY {USER_TABLE} ({', '.join(given)}) FROM STDIN") as copy:
        lines = []
        for i in range(1, data.total_users + 1):
            lines.append("\t".join(values[name](i) for name in given) + "\n")
        copy.write("".join(lines))


def _task_rows(data: DataSet):
    """(id, owner_id, j) in insertion order."""
    regular = range(1, data.users + 1)
    deep = data.deep_user_ids()
    task_id = 0
    for j in range(max(data.tasks_per_user, data.deep_tasks)):
        owners = (regular if j < data.tasks_per_user else ()), (deep if j < data.deep_tasks else ())
        for group in owners:
            for owner in group:
                task_id += 1
                yield task_id, owner, j


def _copy_tasks(conn: psycopg.Connection, data: DataSet) -> None:
    columns = _columns(conn, TASK_TABLE)
    known = [
        "id", "owner_id", "title", "description", "completed", "completed_at", "priority",
        "due_date", "due_day", "created_at", "updated_at", "version", "deleted_at", "position",
    ]  # fmt: skip
    given = [name for name in known if name in columns]
    _check_covered(TASK_TABLE, columns, given)
    day = dt.timedelta(days=1)
    base_date = T0.date()
    with conn.cursor().copy(f"COPY {TASK_TABLE} ({', '.join(given)}) FROM STDIN") as copy:
        lines: list[str] = []
        for task_id, owner, j in _task_rows(data):
            created = T0 + dt.timedelta(seconds=task_id, microseconds=task_id % 997)
            completed = task_id % 5 in (1, 3)  # 40 % done
            due = "\\N" if task_id % 5 == 0 else (base_date + (task_id * 7 % 400) * day).isoformat()
            trashed = data.is_deep(owner) and j % TRASH_EVERY == TRASH_EVERY - 1
            row = {
                "id": str(task_id),
                "owner_id": str(owner),
                "title": f"Task {j} of user {owner}",
                "description": DESCRIPTION,
                "completed": "t" if completed else "f",
                "completed_at": _ts(created + day) if completed else "\\N",
                "priority": PRIORITIES[task_id % 3],
                "due_date": due,
                "due_day": due,  # all-day tasks: the day they are due (taskapi/tasks/due.py)
                "created_at": _ts(created),
                "updated_at": _ts(created),
                "version": "1",
                "deleted_at": _ts(created + TRASHED_AFTER) if trashed else "\\N",
                # Top level, in creation order, as the subtasks migration numbers them.
                "position": str(j * 2**16),
            }
            lines.append("\t".join(row[name] for name in given) + "\n")
            if len(lines) >= BLOCK_ROWS:
                copy.write("".join(lines))
                lines.clear()
        copy.write("".join(lines))


def _label_id(owner: int, index: int) -> int:
    return (owner - 1) * LABELS_PER_USER + index + 1


def _task_label_indexes(j: int) -> tuple[int, ...]:
    """Which of its user's labels task j carries (0 to 2 of them; 0 is the filtered one)."""
    filtered = (0,) if j % FILTERED_EVERY == 0 else ()
    other = (1 + (j // 2) % (LABELS_PER_USER - 1),) if j % 2 == 1 else ()
    return filtered + other


def _copy_labels(conn: psycopg.Connection, data: DataSet) -> None:
    columns = _columns(conn, LABEL_TABLE)
    given = ["id", "owner_id", "name", "name_key", "color", "created_at", "updated_at"]
    _check_covered(LABEL_TABLE, columns, given)
    created = _ts(T0)
    lines = []
    for owner in range(1, data.total_users + 1):
        for index, (name, color) in enumerate(zip(LABEL_NAMES, LABEL_COLORS, strict=True)):
            row = (_label_id(owner, index), owner, name, name.casefold(), color or "\\N")
            lines.append("\t".join(map(str, row)) + f"\t{created}\t{created}\n")
    with conn.cursor().copy(f"COPY {LABEL_TABLE} ({', '.join(given)}) FROM STDIN") as copy:
        copy.write("".join(lines))


def _copy_links(conn: psycopg.Connection, data: DataSet) -> int:
    """The tasks' labels, in the tasks' order; returns how many."""
    given = ["id", "task_id", "label_id"]
    _check_covered(LINK_TABLE, _columns(conn, LINK_TABLE), given)
    link_id = 0
    with conn.cursor().copy(f"COPY {LINK_TABLE} ({', '.join(given)}) FROM STDIN") as copy:
        lines: list[str] = []
        for task_id, owner, j in _task_rows(data):
            for index in _task_label_indexes(j):
                link_id += 1
                lines.append(f"{link_id}\t{task_id}\t{_label_id(owner, index)}\n")
            if len(lines) >= BLOCK_ROWS:
                copy.write("".join(lines))
                lines.clear()
        copy.write("".join(lines))
    return link_id


def _record_changes(conn: psycopg.Connection) -> None:
    """The change log of every seeded task, as the project's writes would have left it: one
    record per task, numbered per user in write order (a trashed task's last write is its
    trashing), and each user's counter at its last number."""
    given = ["owner_id", "kind", "object_id", "seq", "deleted", "changed_at"]
    _check_covered(CHANGE_TABLE, _columns(conn, CHANGE_TABLE), [*given, "id"])
    _check_covered(COUNTER_TABLE, _columns(conn, COUNTER_TABLE), ["owner_id", "seq"])
    conn.execute(
        f"""
        INSERT INTO {CHANGE_TABLE} ({", ".join(given)})
        SELECT owner_id, %s, id,
               ROW_NUMBER() OVER (PARTITION BY owner_id ORDER BY COALESCE(deleted_at, updated_at), id),
               deleted_at IS NOT NULL, COALESCE(deleted_at, updated_at)
        FROM {TASK_TABLE}
        """,  # noqa: E501
        (SYNC_KIND,),
    )
    conn.execute(
        f"INSERT INTO {COUNTER_TABLE} (owner_id, seq) "
        f"SELECT owner_id, max(seq) FROM {CHANGE_TABLE} GROUP BY owner_id"
    )


def seed(conninfo: str, data: DataSet, *, password_hash: str, log=print) -> None:
    started = time.monotonic()
    with psycopg.connect(conninfo, autocommit=False) as conn:
        conn.execute(
            f"TRUNCATE {CHANGE_TABLE}, {COUNTER_TABLE}, {LINK_TABLE}, {TASK_TABLE}, "
            f"{LABEL_TABLE}, {USER_TABLE} RESTART IDENTITY CASCADE"
        )
        _copy_users(conn, data, password_hash)
        _copy_labels(conn, data)
        _copy_tasks(conn, data)
        labelled = time.monotonic()
        links = _copy_links(conn, data)
        labelled = time.monotonic() - labelled
        _record_changes(conn)
        for table in (USER_TABLE, LABEL_TABLE, TASK_TABLE, LINK_TABLE):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: E501
            )
        conn.commit()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            f"VACUUM (ANALYZE) {USER_TABLE}, {LABEL_TABLE}, {TASK_TABLE}, {LINK_TABLE}, "
            f"{CHANGE_TABLE}, {COUNTER_TABLE}"
        )
    log(
        f"seeded {data.name}: {data.total_users:,} users, {data.total_tasks:,} tasks and their "
        f"change records ({data.deep_users * data.trashed_per_deep_user} in the trash), "
        f"{data.total_users * LABELS_PER_USER:,} labels and {links:,} task labels "
        f"(COPY {labelled:.1f} s) in {time.monotonic() - started:.1f} s"
    )


def task_ids_by_owner(conninfo: str, owners: list[int], limit: int = 100) -> dict[int, list[int]]:
    """The first `limit` ids of each user's live tasks (not in the trash)."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            f"""
            SELECT owner_id, (array_agg(id ORDER BY id))[1:%s]
            FROM {TASK_TABLE} WHERE owner_id = ANY(%s) AND deleted_at IS NULL
            GROUP BY owner_id
            """,
            (limit, owners),
        ).fetchall()
    return {owner: ids for owner, ids in rows}


def filtered_label_by_owner(conninfo: str, owners: list[int]) -> dict[int, int]:
    """Each user's filtered label: the one on every FILTERED_EVERY-th of its tasks."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            f"SELECT owner_id, id FROM {LABEL_TABLE} WHERE owner_id = ANY(%s) AND name_key = %s",
            (owners, LABEL_NAMES[0].casefold()),
        ).fetchall()
    return dict(rows)
