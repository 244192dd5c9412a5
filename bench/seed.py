"""Bulk data for the benchmark: COPY straight into the project's tables after `migrate`.

Rows go in in time order, round-robin over the users (task j of every user, then task j+1 ...),
the way a real table fills up: one user's tasks are spread over the whole table, not packed
together on a few pages, so the figures at 1M tasks are not flattered by locality.

Every user has an Inbox (projects_project, inbox) that it owns (projects_membership, role
owner), as registration gives one (taskapi.projects.receivers); user u's Inbox is project u.
A user's tasks are in its Inbox, created by it, assigned to nobody.

The shared list (bench/scenarios.py `shared`): SHARED_PROJECTS projects of `shared_tasks` tasks
each, every one owned by a user of its own and shared with `shared_members` users (editors),
who thus are members of those projects and of their own (empty) Inbox. Their tasks go in after
the users' tasks, round-robin over the projects (task j of every project, then j+1), so the
projects' rows interleave in time as in the table: a page of several projects is a merge of
them, never one project after the other.

Every task gets its record in the change log the project's writes keep (taskapi.sync), for
every member of its project (a reader's records are their own): numbered per reader in the
order the tasks were written, as tasks/migrations/0003_sync_records.py numbers existing tasks,
with each reader's counter at its last number. One task in TRASH_EVERY of each deep-page user is
in the trash, trashed after every task was written: its record is a deletion and the last of
that user's log, as the project's DELETE leaves it.

Every user has LABELS_PER_USER labels, and each task 0 to 2 of its creator's, by its place j
among the creator's (or the project's) tasks: the creator's first label (the filtered one,
`filtered_label_by_owner`) on one task in FILTERED_EVERY, one of the other four on every other
task. Labels are personal: a member of a shared project sees none of the owner's. The links go
in with the tasks' own write, so the change log needs nothing more.

The schema before projects (tasks/0007: tasks_task.owner_id, no projects; bench/README.md, the
migration's time) is seeded too, the same users and tasks without projects, each task recorded
for its owner; it has no shared projects.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg

USER_TABLE = "accounts_user"
PROJECT_TABLE = "projects_project"
MEMBERSHIP_TABLE = "projects_membership"
TASK_TABLE = "tasks_task"
CHANGE_TABLE = "sync_change"
COUNTER_TABLE = "sync_changecounter"
LABEL_TABLE = "labels_label"
LINK_TABLE = "tasks_tasklabel"
SYNC_KIND = "task"  # taskapi.tasks.models.SYNC_KIND
INBOX_NAME = "Inbox"  # taskapi.projects.models.INBOX_NAME
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
SHARED_PROJECTS = 20  # the shared list: a member of 20 projects of 50k tasks each
SHARED_ROLE = "editor"


@dataclass(frozen=True)
class DataSet:
    """`users` users with `tasks_per_user` tasks each, plus `deep_users` with `deep_tasks` each
    (enough to walk 50 pages of 20 and still have a page 51; their change logs are 1,100 long,
    and one of their tasks in TRASH_EVERY is in the trash), plus, with `shared_tasks`,
    SHARED_PROJECTS projects of `shared_tasks` tasks each shared with `shared_members` users.

    User ids: the users 1..users, the deep-page users, the shared projects' owners, then the
    shared members. Project ids: user u's Inbox is u, the shared projects follow."""

    name: str
    users: int
    tasks_per_user: int = 100
    deep_users: int = 8
    deep_tasks: int = 1_100
    shared_tasks: int = 0  # per shared project; 0: no shared projects
    shared_members: int = 1

    @property
    def shared_projects(self) -> int:
        return SHARED_PROJECTS if self.shared_tasks else 0

    @property
    def total_shared_tasks(self) -> int:
        return self.shared_projects * self.shared_tasks

    @property
    def total_tasks(self) -> int:
        own = self.users * self.tasks_per_user + self.deep_users * self.deep_tasks
        return own + self.total_shared_tasks

    @property
    def total_users(self) -> int:
        members = self.shared_members if self.shared_tasks else 0
        return self.users + self.deep_users + self.shared_projects + members

    def deep_user_ids(self) -> list[int]:
        # Users are numbered 1..users, then the deep ones.
        return list(range(self.users + 1, self.users + self.deep_users + 1))

    def shared_owner_ids(self) -> list[int]:
        first = self.users + self.deep_users + 1
        return list(range(first, first + self.shared_projects))

    def shared_member_ids(self) -> list[int]:
        if not self.shared_tasks:
            return []
        first = self.users + self.deep_users + self.shared_projects + 1
        return list(range(first, first + self.shared_members))

    def shared_project_ids(self) -> list[int]:
        return [self.total_users + k + 1 for k in range(self.shared_projects)]

    def is_deep(self, owner: int) -> bool:
        return self.users < owner <= self.users + self.deep_users

    @property
    def trashed_per_deep_user(self) -> int:
        return self.deep_tasks // TRASH_EVERY

    def without_projects(self) -> DataSet:
        """The same users and tasks on the schema before projects: no shared projects."""
        return DataSet(self.name, self.users, self.tasks_per_user, self.deep_users, self.deep_tasks)


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


def has_projects(conn: psycopg.Connection) -> bool:
    """Whether the schema is the one with projects (tasks/0008 on), or the one before."""
    return "project_id" in _columns(conn, TASK_TABLE)


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


def _copy_lines(conn: psycopg.Connection, table: str, given: list[str], lines: Iterator[str]):
    with conn.cursor().copy(f"COPY {table} ({', '.join(given)}) FROM STDIN") as copy:
        block: list[str] = []
        for line in lines:
            block.append(line)
            if len(block) >= BLOCK_ROWS:
                copy.write("".join(block))
                block.clear()
        copy.write("".join(block))


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
    lines = (
        "\t".join(values[name](i) for name in given) + "\n" for i in range(1, data.total_users + 1)
    )
    _copy_lines(conn, USER_TABLE, given, lines)


def _copy_projects(conn: psycopg.Connection, data: DataSet) -> None:
    """Every user's Inbox (project u, owned by user u) and the shared projects, each with its
    owner's membership; the shared members are editors of every shared project."""
    given = ["id", "owner_id", "name", "color", "inbox", "created_at", "updated_at"]
    _check_covered(PROJECT_TABLE, _columns(conn, PROJECT_TABLE), given)
    created = _ts(T0)
    projects = [(user, user, INBOX_NAME, "t") for user in range(1, data.total_users + 1)]
    projects += [
        (project, owner, f"Shared project {k + 1}", "f")
        for k, (project, owner) in enumerate(
            zip(data.shared_project_ids(), data.shared_owner_ids(), strict=True)
        )
    ]
    _copy_lines(
        conn,
        PROJECT_TABLE,
        given,
        (f"{pk}\t{owner}\t{name}\t\\N\t{inbox}\t{created}\t{created}\n"
         for pk, owner, name, inbox in projects),
    )  # fmt: skip
    given = ["id", "project_id", "user_id", "role", "joined_at"]
    _check_covered(MEMBERSHIP_TABLE, _columns(conn, MEMBERSHIP_TABLE), given)
    members = [(pk, owner, "owner") for pk, owner, _name, _inbox in projects]
    members += [
        (project, member, SHARED_ROLE)
        for project in data.shared_project_ids()
        for member in data.shared_member_ids()
    ]
    _copy_lines(
        conn,
        MEMBERSHIP_TABLE,
        given,
        (f"{n}\t{pk}\t{user}\t{role}\t{created}\n"
         for n, (pk, user, role) in enumerate(members, start=1)),
    )  # fmt: skip


def _task_rows(data: DataSet) -> Iterator[tuple[int, int, int, int]]:
    """(id, creator, project, j) in insertion order: the users' tasks in their Inboxes, then
    the shared projects' tasks, j being the task's place among its creator's (or project's)."""
    regular = range(1, data.users + 1)
    deep = data.deep_user_ids()
    task_id = 0
    for j in range(max(data.tasks_per_user, data.deep_tasks)):
        owners = (regular if j < data.tasks_per_user else ()), (deep if j < data.deep_tasks else ())
        for group in owners:
            for owner in group:
                task_id += 1
                yield task_id, owner, owner, j
    shared = list(zip(data.shared_owner_ids(), data.shared_project_ids(), strict=True))
    for j in range(data.shared_tasks):
        for owner, project in shared:
            task_id += 1
            yield task_id, owner, project, j


def _copy_tasks(conn: psycopg.Connection, data: DataSet, *, projects: bool) -> None:
    columns = _columns(conn, TASK_TABLE)
    known = [
        "id", "owner_id", "project_id", "created_by_id", "assignee_id", "title", "description",
        "completed", "completed_at", "priority", "due_date", "due_day", "created_at",
        "updated_at", "version", "deleted_at", "position",
    ]  # fmt: skip
    given = [name for name in known if name in columns]
    _check_covered(TASK_TABLE, columns, given)
    day = dt.timedelta(days=1)
    base_date = T0.date()

    def lines() -> Iterator[str]:
        for task_id, owner, project, j in _task_rows(data):
            created = T0 + dt.timedelta(seconds=task_id, microseconds=task_id % 997)
            completed = task_id % 5 in (1, 3)  # 40 % done
            due = "\\N" if task_id % 5 == 0 else (base_date + (task_id * 7 % 400) * day).isoformat()
            trashed = data.is_deep(owner) and j % TRASH_EVERY == TRASH_EVERY - 1
            row = {
                "id": str(task_id),
                "owner_id": str(owner),
                "project_id": str(project),
                "created_by_id": str(owner),
                "assignee_id": "\\N",
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
            yield "\t".join(row[name] for name in given) + "\n"

    if not projects and data.shared_tasks:
        raise ValueError("the schema before projects has no shared projects")
    _copy_lines(conn, TASK_TABLE, given, lines())


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
    _copy_lines(conn, LABEL_TABLE, given, iter(lines))


def _copy_links(conn: psycopg.Connection, data: DataSet) -> int:
    """The tasks' labels (their creators'), in the tasks' order; returns how many."""
    given = ["id", "task_id", "label_id"]
    _check_covered(LINK_TABLE, _columns(conn, LINK_TABLE), given)
    count = 0

    def lines() -> Iterator[str]:
        nonlocal count
        for task_id, owner, _project, j in _task_rows(data):
            for index in _task_label_indexes(j):
                count += 1
                yield f"{count}\t{task_id}\t{_label_id(owner, index)}\n"

    _copy_lines(conn, LINK_TABLE, given, lines())
    return count


def _record_changes(conn: psycopg.Connection, *, projects: bool) -> None:
    """The change log of every seeded task, as the project's writes would have left it: one
    record per task and reader (every member of its project; before projects, its owner),
    numbered per reader in write order (a trashed task's last write is its trashing), and each
    reader's counter at its last number."""
    given = ["owner_id", "kind", "object_id", "seq", "deleted", "changed_at"]
    _check_covered(CHANGE_TABLE, _columns(conn, CHANGE_TABLE), [*given, "id"])
    _check_covered(COUNTER_TABLE, _columns(conn, COUNTER_TABLE), ["owner_id", "seq"])
    readers = (
        f"{TASK_TABLE} t JOIN {MEMBERSHIP_TABLE} m ON m.project_id = t.project_id"
        if projects
        else f"(SELECT *, owner_id AS user_id FROM {TASK_TABLE}) t"
    )
    reader = "m.user_id" if projects else "t.user_id"
    conn.execute(
        f"""
        INSERT INTO {CHANGE_TABLE} ({", ".join(given)})
        SELECT {reader}, %s, t.id,
               ROW_NUMBER() OVER (PARTITION BY {reader}
                                  ORDER BY COALESCE(t.deleted_at, t.updated_at), t.id),
               t.deleted_at IS NOT NULL, COALESCE(t.deleted_at, t.updated_at)
        FROM {readers}
        """,
        (SYNC_KIND,),
    )
    conn.execute(
        f"INSERT INTO {COUNTER_TABLE} (owner_id, seq) "
        f"SELECT owner_id, max(seq) FROM {CHANGE_TABLE} GROUP BY owner_id"
    )


def _secondary_indexes(conn: psycopg.Connection, table: str) -> list[tuple[str, str]]:
    """The table's indexes but its primary key, as (DROP statement, CREATE statement): unique
    constraints through ALTER TABLE, the rest (partial unique ones included) as indexes."""
    rows = conn.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid), c.conname, pg_get_constraintdef(c.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.contype IN ('u', 'x')
        WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
        """,
        (table,),
    ).fetchall()
    return [
        (f"ALTER TABLE {table} DROP CONSTRAINT {constraint}",
         f"ALTER TABLE {table} ADD CONSTRAINT {constraint} {definition}")
        if constraint
        else (f"DROP INDEX {index}", create)
        for index, create, constraint, definition in rows
    ]  # fmt: skip


def seed(conninfo: str, data: DataSet, *, password_hash: str, log=print) -> None:
    """TRUNCATE the tables and fill them. The big ones (tasks, their labels, the change log)
    are loaded without their secondary indexes, which are built again afterwards, and foreign
    keys are not checked row by row (session_replication_role = replica skips their triggers):
    the rows are made consistent here, and one index build costs a fraction of millions of
    index insertions and deferred checks (at 2M tasks: 435 s before, on the shared machine)."""
    started = time.monotonic()
    with psycopg.connect(conninfo, autocommit=False) as conn:
        projects = has_projects(conn)
        tables = [USER_TABLE, LABEL_TABLE, TASK_TABLE, LINK_TABLE]
        if projects:
            tables += [PROJECT_TABLE, MEMBERSHIP_TABLE]
        conn.execute(
            f"TRUNCATE {CHANGE_TABLE}, {COUNTER_TABLE}, {', '.join(tables)} "
            "RESTART IDENTITY CASCADE"
        )
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        indexes = [
            statements
            for table in (TASK_TABLE, LINK_TABLE, CHANGE_TABLE)
            for statements in _secondary_indexes(conn, table)
        ]
        for drop, _create in indexes:
            conn.execute(drop)
        _copy_users(conn, data, password_hash)
        if projects:
            _copy_projects(conn, data)
        _copy_labels(conn, data)
        copied = time.monotonic()
        _copy_tasks(conn, data, projects=projects)
        copied = time.monotonic() - copied
        labelled = time.monotonic()
        links = _copy_links(conn, data)
        labelled = time.monotonic() - labelled
        recorded = time.monotonic()
        _record_changes(conn, projects=projects)
        recorded = time.monotonic() - recorded
        indexed = time.monotonic()
        for _drop, create in indexes:
            conn.execute(create)
        indexed = time.monotonic() - indexed
        for table in tables:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: E501
            )
        conn.commit()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"VACUUM (ANALYZE) {', '.join(tables)}, {CHANGE_TABLE}, {COUNTER_TABLE}")
    shared = (
        f", {data.shared_projects} shared projects of {data.shared_tasks:,} tasks with "
        f"{data.shared_members} member{'s' if data.shared_members != 1 else ''}"
        if data.shared_tasks
        else ""
    )
    log(
        f"seeded {data.name}{'' if projects else ' (schema before projects)'}: "
        f"{data.total_users:,} users, {data.total_tasks:,} tasks{shared} and their change "
        f"records ({data.deep_users * data.trashed_per_deep_user} in the trash), "
        f"{data.total_users * LABELS_PER_USER:,} labels and {links:,} task labels "
        f"(COPY of tasks {copied:.1f} s, of labels {labelled:.1f} s, change log "
        f"{recorded:.1f} s, {len(indexes)} indexes {indexed:.1f} s) in "
        f"{time.monotonic() - started:.1f} s"
    )


def task_ids_by_owner(conninfo: str, owners: list[int], limit: int = 100) -> dict[int, list[int]]:
    """The first `limit` ids of the live tasks in each user's Inbox (not in the trash)."""
    with psycopg.connect(conninfo) as conn:
        if has_projects(conn):
            query = f"""
                SELECT p.owner_id, (array_agg(t.id ORDER BY t.id))[1:%s]
                FROM {TASK_TABLE} t JOIN {PROJECT_TABLE} p ON p.id = t.project_id
                WHERE p.inbox AND p.owner_id = ANY(%s) AND t.deleted_at IS NULL
                GROUP BY p.owner_id
            """
        else:
            query = f"""
                SELECT owner_id, (array_agg(id ORDER BY id))[1:%s]
                FROM {TASK_TABLE} WHERE owner_id = ANY(%s) AND deleted_at IS NULL
                GROUP BY owner_id
            """
        rows = conn.execute(query, (limit, owners)).fetchall()
    return {owner: ids for owner, ids in rows}


def filtered_label_by_owner(conninfo: str, owners: list[int]) -> dict[int, int]:
    """Each user's filtered label: the one on every FILTERED_EVERY-th of its tasks."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            f"SELECT owner_id, id FROM {LABEL_TABLE} WHERE owner_id = ANY(%s) AND name_key = %s",
            (owners, LABEL_NAMES[0].casefold()),
        ).fetchall()
    return dict(rows)
