"""The benchmark's baseline: the task API's hot routes as a bare ASGI app, no Django.

It does the work the project must do and nothing else, so its figures are the practical limit of
this machine and stack: verify the HS256 access token (PyJWT, the same key and claim checks as
taskapi.accounts.authentication, including the token-version check in Redis under Django's cache
key), run the same SQL through a psycopg pool of the same size, and write the same JSON with
orjson. Served by the same Uvicorn flags, workers and nginx as the project.

Routes: GET /health/, GET and POST /tasks/, GET and PATCH /tasks/{id}/, GET /tasks/changes/ (the
changes feed: the project's change log and sync tokens, taskapi.sync), GET /tasks/trash/.

Tasks live in projects (taskapi.projects): a read is scoped to the projects the user is a member
of, as taskapi.tasks.selectors scopes it (a list page reads the user's project ids first and
names them as values; a single read has them as a subquery), and a write asks for the user's
role in the task's project (a viewer's PATCH is a 403). Writes record themselves in the change
log for every member of the task's project, as the project's do, in the same statement. Every
task is read with the reader's own label ids in the same statement, and `GET /tasks/?label=`
filters by labels, as taskapi.tasks.selectors and filters do; the writes never set labels,
project or assignee (the benchmark sends none: a new task goes to the user's Inbox).
Configured by the project's environment variables (DATABASE_URL, REDIS_URL, DJANGO_SECRET_KEY or
JWT_SIGNING_KEY, ACCESS_TOKEN_LIFETIME, DB_POOL_MIN_SIZE, DB_POOL_MAX_SIZE, DB_POOL_TIMEOUT,
DB_STATEMENT_TIMEOUT_MS, SYNC_TOKEN_MAX_AGE_DAYS).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
import time
from urllib.parse import parse_qsl, urlencode

import jwt
import orjson
import redis.asyncio as aioredis
from psycopg_pool import AsyncConnectionPool

MAX_ID = 2**63 - 1
PRIORITIES = {"low", "medium", "high"}
# Every column Django's SELECT of the model has.
COLUMNS = (
    "id", "project_id", "created_by_id", "assignee_id", "title", "description", "completed",
    "completed_at", "priority", "due_date", "version", "created_at", "updated_at", "deleted_at",
    "due_at", "time_zone", "due_day", "parent_id", "position",
)  # fmt: skip
# The task's label ids after the columns, as taskapi.tasks.selectors reads them: the reader's
# own labels only (labels are personal), a correlated subquery on the (task, label) index, in
# no particular order. Its parameter, the reader's id, comes first in every read's arguments.
LABEL_IDS_SQL = (
    "(SELECT string_agg(l.label_id::text, ',') FROM tasks_tasklabel l "
    "JOIN labels_label o ON o.id = l.label_id WHERE l.task_id = tasks_task.id AND o.owner_id = %s)"
)
SELECT = f"SELECT {', '.join(COLUMNS)}, {LABEL_IDS_SQL} FROM tasks_task"
ID, PROJECT_ID, ASSIGNEE_ID = (COLUMNS.index(name) for name in ("id", "project_id", "assignee_id"))
TITLE, DESCRIPTION = COLUMNS.index("title"), COLUMNS.index("description")
COMPLETED, COMPLETED_AT = COLUMNS.index("completed"), COLUMNS.index("completed_at")
PRIORITY, DUE_DATE = COLUMNS.index("priority"), COLUMNS.index("due_date")
CREATED_AT, UPDATED_AT = COLUMNS.index("created_at"), COLUMNS.index("updated_at")
VERSION = COLUMNS.index("version")
DELETED_AT = COLUMNS.index("deleted_at")
LABEL_IDS = len(COLUMNS)
# The projects the user may read tasks in (taskapi.projects.policy.project_ids: every role), as
# a subquery on the membership's (user, project, role) index; the trash's, owners and editors.
MEMBER_OF = "project_id IN (SELECT project_id FROM projects_membership WHERE user_id = %s)"
PROJECT_IDS = "SELECT project_id FROM projects_membership WHERE user_id = %s"
TRASH_PROJECT_IDS = f"{PROJECT_IDS} AND role IN ('editor', 'owner')"
WRITERS = ("owner", "editor")  # taskapi.projects.policy: task:write
# Tasks that carry a label: one semi-join per label (taskapi.tasks.filters.filter_labels).
HAS_LABEL = "id IN (SELECT task_id FROM tasks_tasklabel WHERE label_id = %s)"
MAX_LABEL_FILTERS = 10
LABEL_ID = re.compile(r"[1-9][0-9]{0,39}")
DUE_AT, TIME_ZONE = COLUMNS.index("due_at"), COLUMNS.index("time_zone")
PARENT_ID, POSITION = COLUMNS.index("parent_id"), COLUMNS.index("position")
# The due_date ordering walks due_day, the day a task is due (taskapi/tasks/due.py), on the
# (project_id, due_day, id) index; the baseline writes all-day due dates only, whose due_day is
# the due_date.
DUE_DAY = "due_day"
# Live tasks: every read but the trash's leaves trashed ones out (taskapi.tasks.selectors).
LIVE = "deleted_at IS NULL"
# A task the user can see, with the user's role in its project last (a write's read).
READ_WITH_ROLE = (
    f"SELECT {', '.join(f'tasks_task.{name}' for name in COLUMNS)}, {LABEL_IDS_SQL}, m.role "
    "FROM tasks_task JOIN projects_membership m ON m.project_id = tasks_task.project_id "
    f"AND m.user_id = %s WHERE tasks_task.{LIVE} AND tasks_task.id = %s LIMIT 21"
)
# ordering -> (column, descending); ties broken by id in the same direction. due_date is
# nullable: nulls last ascending, first descending (PostgreSQL's own defaults).
ORDERINGS = {
    name: (name.lstrip("-").replace("due_date", DUE_DAY), name.startswith("-"))
    for name in ("created_at", "-created_at", "due_date", "-due_date", "updated_at", "-updated_at")
}
TRASH_ORDERING = "-deleted_at"  # the trash's only order (taskapi.tasks.views)
KEYS = {**ORDERINGS, TRASH_ORDERING: ("deleted_at", True)}
CHANGES_PAGE_SIZE, CHANGES_MAX_PAGE_SIZE = 100, 500  # taskapi.tasks.changes
SYNC_KIND = "task"
JSON = [(b"content-type", b"application/json")]
PROBLEM = [(b"content-type", b"application/problem+json")]


class State:
    pool: AsyncConnectionPool
    redis: aioredis.Redis
    key: str
    secret_key: str  # Django's SECRET_KEY: it signs sync tokens
    token_lifetime: int
    sync_token_max_age: int  # seconds


state = State()


# --- helpers -----------------------------------------------------------------------------------
def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


async def _startup() -> None:
    timeout_ms = _env_int("DB_STATEMENT_TIMEOUT_MS", 5000)
    state.pool = AsyncConnectionPool(
        os.environ["DATABASE_URL"],
        min_size=_env_int("DB_POOL_MIN_SIZE", 2),
        max_size=_env_int("DB_POOL_MAX_SIZE", 10),
        timeout=float(os.environ.get("DB_POOL_TIMEOUT") or 1.5),
        kwargs={
            "autocommit": True,
            "connect_timeout": 3,
            "options": f"-c statement_timeout={timeout_ms} -c TimeZone=UTC",
        },
        open=False,
    )
    await state.pool.open()
    state.redis = aioredis.Redis.from_url(
        os.environ["REDIS_URL"], socket_connect_timeout=1, socket_timeout=1
    )
    state.secret_key = os.environ["DJANGO_SECRET_KEY"]
    state.key = os.environ.get("JWT_SIGNING_KEY") or state.secret_key
    state.token_lifetime = _env_int("ACCESS_TOKEN_LIFETIME", 300)
    state.sync_token_max_age = _env_int("SYNC_TOKEN_MAX_AGE_DAYS", 30) * 86400


async def _shutdown() -> None:
    await state.pool.close()
    await state.redis.aclose()


async def _send(send, status: int, body: bytes = b"", headers: list | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*(headers or JSON), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _problem(send, status: int, type_: str, detail: str, extra: list | None = None) -> None:
    body = orjson.dumps({"type": type_, "title": detail, "status": status, "detail": detail})
    await _send(send, status, body, [*PROBLEM, *(extra or [])])


async def _body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _task(row: tuple) -> dict:
    return {
        "id": row[ID],
        "title": row[TITLE],
        "description": row[DESCRIPTION],
        "completed": row[COMPLETED],
        "completed_at": row[COMPLETED_AT],
        "priority": row[PRIORITY],
        "due_date": row[DUE_DATE],
        "due_at": row[DUE_AT],
        "time_zone": row[TIME_ZONE],
        "created_at": row[CREATED_AT],
        "updated_at": row[UPDATED_AT],
        "labels": _label_ids(row[LABEL_IDS]),
        "parent_id": row[PARENT_ID],
        "position": row[POSITION],
        "project_id": row[PROJECT_ID],
        "assignee_id": row[ASSIGNEE_ID],
    }


def _label_ids(text: str | None) -> list[int]:
    return sorted(int(part) for part in text.split(",")) if text else []


def _trashed_task(row: tuple) -> dict:
    return {**_task(row), "deleted_at": row[DELETED_AT]}


def _dumps(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)


# --- authentication ----------------------------------------------------------------------------
async def _token_version(user_id: int) -> int | None:
    # Django's RedisCache: key "<KEY_PREFIX>:<version>:<key>", integers stored unpickled.
    key = f"taskapi:1:tokver:{user_id}"
    cached = await state.redis.get(key)
    if cached is not None:
        try:
            return int(cached)
        except ValueError:
            return None  # the pickled "gone" marker of a deleted user
    async with state.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT token_version FROM accounts_user WHERE id = %s LIMIT 1", (user_id,)
        )
        row = await cur.fetchone()
    version = row[0] if row else None
    await state.redis.set(
        key, version if version is not None else b"gone", ex=state.token_lifetime, nx=True
    )
    return version


async def _authenticate(headers: list) -> int | None:
    header = b""
    for name, value in headers:
        if name == b"authorization":
            header = value
            break
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != b"bearer":
        return None
    claimed = access_token_claims(parts[1], state.key)
    if claimed is None:
        return None
    user_id, version = claimed
    if await _token_version(user_id) != version:
        return None
    return user_id


def access_token_claims(token: bytes | str, key: str) -> tuple[int, int] | None:
    """(user id, token version) of a valid access token, by simplejwt's checks; the caller
    compares the version with the user's current one."""
    try:
        claims = jwt.decode(
            token, key, algorithms=["HS256"], options={"require": ["exp"]}, leeway=0
        )
        user_id = int(claims["user_id"])
        version = claims["ver"]
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return None
    if claims.get("token_type") != "access" or "jti" not in claims:
        return None
    if not isinstance(version, int) or isinstance(version, bool):
        return None
    if not 0 < user_id <= MAX_ID:
        return None
    return user_id, version


# --- cursors and keyset pages: the project's SQL (taskapi/tasks/pagination.py) ---------------
def _cursor_encode(ordering: str, value: object, task_id: int, backwards: bool) -> str:
    raw = _dumps([ordering, value, task_id, 1 if backwards else 0])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(cursor: str, ordering: str) -> tuple[object, int, bool]:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    cursor_ordering, value, task_id, backwards = orjson.loads(raw)
    if cursor_ordering != ordering or type(task_id) is not int or not 1 <= task_id <= MAX_ID:
        raise ValueError("not a cursor of this ordering")
    if value is not None:
        if ordering.lstrip("-") == "due_date":
            value = dt.date.fromisoformat(value)
        else:
            value = dt.datetime.fromisoformat(value)
    return value, task_id, bool(backwards)


def _segment_sql(
    reader: int,
    projects: list[int],
    where: list[str],
    args: list,
    column: str,
    has_value: bool,
    descending: bool,
    seek,
    limit: int,
) -> tuple[str, list]:
    """One index range per project: the rows with (or without) a value, after the seek
    position. With several projects, each project's first `limit` rows by its own range
    (a LATERAL subquery per project id), merged: the page reads at most `limit` index rows
    a project, never every task of the projects."""
    op = "<" if descending else ">"
    direction = "DESC" if descending else "ASC"
    where, args = list(where), list(args)
    if not has_value:
        where.append(f"{column} IS NULL")
        if seek:
            where.append(f"id {op} %s")
            args.append(seek[1])
        order = f"id {direction}"
    else:
        if column == DUE_DAY:
            where.append(f"{column} IS NOT NULL")
        if seek:
            where.append(f"{column} {op}= %s AND ({column} {op} %s OR id {op} %s)")
            args += [seek[0], seek[0], seek[1]]
        order = f"{column} {direction}, id {direction}"
    if len(projects) == 1:
        sql = f"{SELECT} WHERE project_id = %s AND {' AND '.join(where)}"
        return f"{sql} ORDER BY {order} LIMIT {limit}", [reader, projects[0], *args]
    # The label ids of the page's rows only: computed after the merge's sort and limit.
    per_project = (
        f"SELECT {', '.join(COLUMNS)} FROM tasks_task WHERE project_id = p.project "
        f"AND {' AND '.join(where)} ORDER BY {order} LIMIT {limit}"
    )
    sql = (
        f"SELECT {', '.join(COLUMNS)}, {LABEL_IDS_SQL} FROM unnest(%s::bigint[]) AS p(project) "
        f"CROSS JOIN LATERAL ({per_project}) AS tasks_task ORDER BY {order} LIMIT {limit}"
    )
    return sql, [reader, projects, *args]


async def _fetch(
    conn,
    reader: int,
    projects: list[int],
    where,
    args,
    column: str,
    descending: bool,
    seek,
    limit: int,
) -> list[tuple]:
    # Nulls last ascending, first descending: a nullable key is walked as two segments.
    if column != DUE_DAY:
        segments = [True]
    elif descending:
        segments = [False, True]
    else:
        segments = [True, False]
    if seek:
        segments = segments[segments.index(seek[0] is not None) :]
    rows: list[tuple] = []
    if not projects:
        return rows
    for index, has_value in enumerate(segments):
        sql, sql_args = _segment_sql(
            reader, projects, where, args, column, has_value, descending,
            seek if index == 0 else None, limit - len(rows),
        )  # fmt: skip
        cur = await conn.execute(sql, sql_args)
        rows += await cur.fetchall()
        if len(rows) >= limit:
            break
    return rows


# --- views -------------------------------------------------------------------------------------
def _truthy(value: str) -> bool | None:
    return {"true": True, "false": False}.get(value)


def _bad(send, field: str):
    return _problem(send, 400, "/problems/validation-error", f"{field} is invalid.")


def _page_size(params: dict[str, str]) -> int | None:
    """`page_size` (1 to 100, default 20), or None when it is invalid."""
    try:
        page_size = int(params.get("page_size", "20"))
    except ValueError:
        return None
    return page_size if 1 <= page_size <= 100 else None


async def _task_list(scope, send, user_id: int) -> None:
    pairs = parse_qsl(scope["query_string"].decode("latin-1"))
    params = dict(pairs)
    page_size = _page_size(params)
    if page_size is None:
        return await _bad(send, "page_size")
    ordering = params.get("ordering", "-created_at")
    if ordering not in ORDERINGS:
        return await _bad(send, "ordering")
    where, args = [LIVE], []
    if "completed" in params:
        completed = _truthy(params["completed"])
        if completed is None:
            return await _bad(send, "completed")
        where.append("completed = %s")
        args.append(completed)
    if "priority" in params:
        if params["priority"] not in PRIORITIES:
            return await _bad(send, "priority")
        where.append("priority = %s")
        args.append(params["priority"])
    raw_labels = [value for name, value in pairs if name == "label"]
    if raw_labels:
        if not all(LABEL_ID.fullmatch(raw) for raw in raw_labels):
            return await _bad(send, "label")
        label_ids = sorted({int(raw) for raw in raw_labels})
        if len(label_ids) > MAX_LABEL_FILTERS:
            return await _bad(send, "label")
        if label_ids[-1] > MAX_ID:
            where.append("FALSE")  # no label has such an id
        for label_id in label_ids:
            where.append(HAS_LABEL)
            args.append(label_id)
        # The links keep every label, not the last one dict(pairs) holds.
        params = {**params, "label": label_ids}
    await _task_page(scope, send, user_id, PROJECT_IDS, params, page_size, ordering, where, args,
                     _task)  # fmt: skip


async def _task_trash_list(scope, send, user_id: int) -> None:
    """GET /tasks/trash/: the trashed tasks of the projects where the user may read the trash,
    last trashed first (no filters)."""
    params = dict(parse_qsl(scope["query_string"].decode("latin-1")))
    page_size = _page_size(params)
    if page_size is None:
        return await _bad(send, "page_size")
    where = ["deleted_at IS NOT NULL"]
    await _task_page(scope, send, user_id, TRASH_PROJECT_IDS, params, page_size, TRASH_ORDERING,
                     where, [], _trashed_task)  # fmt: skip


async def _task_page(
    scope, send, user_id, projects_sql, params, page_size, ordering, where, args, render
) -> None:
    """One keyset page of `where` in `ordering` over the user's projects (`projects_sql`, read
    first, as taskapi.tasks.selectors.task_page_source does), after the cursor in `params`."""
    column, descending = KEYS[ordering]
    seek, backwards = None, False
    if "cursor" in params:
        try:
            value, after_id, backwards = _cursor_decode(params["cursor"], ordering)
        except (ValueError, TypeError, orjson.JSONDecodeError):
            return await _bad(send, "cursor")
        seek = (value, after_id)
    async with state.pool.connection() as conn:
        cur = await conn.execute(projects_sql, (user_id,))
        projects = [project for (project,) in await cur.fetchall()]
        rows = await _fetch(
            conn, user_id, projects, where, args, column, descending != backwards, seek,
            page_size + 1,
        )  # fmt: skip
    more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()
        has_next, has_previous = True, more
    else:
        has_next, has_previous = more, seek is not None
    index = COLUMNS.index(column)
    base = _base_url(scope)

    def link(row: tuple, back: bool) -> str:
        query = {k: v for k, v in params.items() if k != "cursor"}
        query["cursor"] = _cursor_encode(ordering, _iso(row[index]), row[0], back)
        return f"{base}?{urlencode(query, doseq=True)}"

    body = {
        "results": [render(row) for row in rows],
        "next": link(rows[-1], False) if rows and has_next else None,
        "previous": link(rows[0], True) if rows and has_previous else None,
    }
    await _send(send, 200, _dumps(body))


def _iso(value: object) -> object:
    return value.isoformat() if value is not None else None


def _base_url(scope) -> str:
    host = "localhost"
    scheme = scope.get("scheme", "http")
    for name, value in scope["headers"]:
        if name == b"host":
            host = value.decode("latin-1")
        elif name == b"x-forwarded-proto":
            scheme = value.decode("latin-1")
    return f"{scheme}://{host}{scope['path']}"


async def _task_get(scope, send, user_id: int, task_id: int) -> None:
    async with state.pool.connection() as conn:
        cur = await conn.execute(
            f"{SELECT} WHERE {MEMBER_OF} AND {LIVE} AND id = %s LIMIT 21",
            (user_id, user_id, task_id),
        )
        row = await cur.fetchone()
    if row is None:
        return await _problem(send, 404, "/problems/not-found", "Task not found.")
    etag = f'"{row[VERSION]}"'.encode()
    for name, value in scope["headers"]:
        if name == b"if-none-match" and value == etag:
            return await _send(send, 304, b"", [(b"etag", etag)])
    await _send(send, 200, _dumps(_task(row)), [*JSON, (b"etag", etag)])


def _validate(data: object, *, partial: bool) -> dict | str:
    """The accepted fields, or the name of the first invalid one."""
    if not isinstance(data, dict):
        return "body"
    clean: dict = {}
    if "title" in data or not partial:
        title = data.get("title")
        if not isinstance(title, str) or not title.strip() or len(title) > 200:
            return "title"
        clean["title"] = title
    if "description" in data:
        if not isinstance(data["description"], str) or len(data["description"]) > 10_000:
            return "description"
        clean["description"] = data["description"]
    if "completed" in data:
        if not isinstance(data["completed"], bool):
            return "completed"
        clean["completed"] = data["completed"]
    if "priority" in data:
        if data["priority"] not in PRIORITIES:
            return "priority"
        clean["priority"] = data["priority"]
    if "due_date" in data:
        due = data["due_date"]
        try:
            clean["due_date"] = None if due is None else dt.date.fromisoformat(due)
            clean["due_day"] = clean["due_date"]
        except (TypeError, ValueError):
            return "due_date"
    return clean


async def _task_create(scope, receive, send, user_id: int) -> None:
    try:
        data = orjson.loads(await _body(receive))
    except orjson.JSONDecodeError:
        return await _problem(send, 400, "/problems/malformed-request", "Malformed JSON.")
    clean = _validate(data, partial=False)
    if isinstance(clean, str):
        return await _problem(send, 400, "/problems/validation-error", f"{clean} is invalid.")
    now = dt.datetime.now(dt.UTC)
    task = {
        "title": clean["title"],
        "description": clean.get("description", ""),
        "completed": clean.get("completed", False),
        "completed_at": now if clean.get("completed") else None,
        "priority": clean.get("priority", "medium"),
        "due_date": clean.get("due_date"),
        "created_at": now,
        "updated_at": now,
    }
    async with state.pool.connection() as conn, conn.transaction():
        # As the project does: the user's Inbox, locked (the per-project lock of the writes
        # that place tasks), then the new task goes last among its top level.
        cur = await conn.execute(
            "SELECT id FROM projects_project WHERE owner_id = %s AND inbox FOR NO KEY UPDATE",
            (user_id,),
        )
        (project_id,) = await cur.fetchone()
        cur = await conn.execute(
            "SELECT COALESCE(MAX(position) + 65536, 0) FROM tasks_task "
            "WHERE project_id = %s AND parent_id IS NULL AND deleted_at IS NULL",
            (project_id,),
        )
        (position,) = await cur.fetchone()
        cur = await conn.execute(
            "WITH written AS (INSERT INTO tasks_task (project_id, created_by_id, title, "
            "description, completed, completed_at, priority, due_date, version, created_at, "
            "updated_at, due_day, position) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 1, %s, %s, %s, %s) RETURNING id) " + RECORD,
            (
                project_id,
                user_id,
                *task.values(),
                task["due_date"],
                position,
                project_id,
                SYNC_KIND,
                False,
                now,
            ),
        )
        (task_id,) = await cur.fetchone()
    body = _dumps(
        {
            "id": task_id,
            **task,
            "due_at": None,
            "time_zone": None,
            "labels": [],
            "parent_id": None,
            "position": position,
            "project_id": project_id,
            "assignee_id": None,
        }
    )
    headers = [*JSON, (b"location", f"/tasks/{task_id}/".encode()), (b"etag", b'"1"')]
    await _send(send, 201, body, headers)


async def _task_patch(scope, receive, send, user_id: int, task_id: int) -> None:
    try:
        data = orjson.loads(await _body(receive))
    except orjson.JSONDecodeError:
        return await _problem(send, 400, "/problems/malformed-request", "Malformed JSON.")
    clean = _validate(data, partial=True)
    if isinstance(clean, str):
        return await _problem(send, 400, "/problems/validation-error", f"{clean} is invalid.")
    # As taskapi.tasks.services.task_update: read (with the user's role in the task's project:
    # a non-member's 404, a viewer's 403), then one UPDATE conditional on the version read,
    # setting the fields sent plus completed_at, updated_at and version.
    async with state.pool.connection() as conn:
        for _attempt in range(3):  # re-read and retry when another write slipped in between
            cur = await conn.execute(READ_WITH_ROLE, (user_id, user_id, task_id))
            row = await cur.fetchone()
            if row is None:
                return await _problem(send, 404, "/problems/not-found", "Task not found.")
            if row[-1] not in WRITERS:
                return await _problem(
                    send, 403, "/problems/permission-denied", "Your role lacks task:write."
                )
            task = dict(zip(COLUMNS, row[:LABEL_IDS], strict=True))
            now = dt.datetime.now(dt.UTC)
            completed = clean.get("completed", task["completed"])
            values = {
                **clean,
                "completed_at": (task["completed_at"] if task["completed"] else now)
                if completed
                else None,
                "updated_at": now,
                "version": task["version"] + 1,
            }
            assignments = ", ".join(f"{name} = %s" for name in values)
            project_id = task["project_id"]
            # The project's row held (FOR KEY SHARE) before the task's, as readers_locked holds
            # it: a membership change of the project and this write take turns.
            cur = await conn.execute(
                "WITH locked AS (SELECT id FROM projects_project WHERE id = %s FOR KEY SHARE), "
                f"written AS (UPDATE tasks_task SET {assignments} "
                f"WHERE project_id = (SELECT id FROM locked) AND {LIVE} AND id = %s "
                "AND version = %s RETURNING id) " + RECORD,
                (
                    project_id, *values.values(), task_id, task["version"],
                    project_id, SYNC_KIND, False, now,
                ),
            )  # fmt: skip
            written = cur.rowcount
            if written:
                break
    if not written:
        return await _problem(send, 409, "/problems/conflict", "The task changed meanwhile.")
    task.update(values)
    row = (*(task[name] for name in COLUMNS), row[LABEL_IDS])  # the labels stay as read
    headers = [*JSON, (b"etag", f'"{task["version"]}"'.encode())]
    await _send(send, 200, _dumps(_task(row)), headers)


# --- the change log and the changes feed: the project's SQL and tokens (taskapi.sync) ---------
# Appended to a data-modifying CTE `written` (the rows written, with their id), for the
# project the rows are in: each member's (reader's) next number from their counter row, taken in
# ascending user id and held locked until the statement commits (what orders each reader's
# numbers by commit), and each written row's record for each reader. Nothing is recorded when
# nothing was written. One statement, where the project runs three (the members, the write,
# then their records).
RECORD = (
    ", readers AS (SELECT user_id FROM projects_membership WHERE project_id = %s "
    "AND EXISTS (SELECT 1 FROM written)), "
    "next AS (INSERT INTO sync_changecounter (owner_id, seq) "
    "SELECT user_id, 1 FROM readers ORDER BY user_id "
    "ON CONFLICT (owner_id) DO UPDATE SET seq = sync_changecounter.seq + 1 "
    "RETURNING owner_id, seq) "
    "INSERT INTO sync_change (owner_id, kind, object_id, seq, deleted, changed_at) "
    "SELECT next.owner_id, %s, written.id, next.seq, %s, %s FROM written, next "
    "ON CONFLICT (owner_id, kind, object_id) DO UPDATE SET seq = EXCLUDED.seq, "
    "deleted = EXCLUDED.deleted, changed_at = EXCLUDED.changed_at "
    "RETURNING object_id"
)
SYNC_SALT = "taskapi.sync.token"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class SyncTokenExpired(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sync_signature(value: str, owner_id: int, key: str) -> str:
    # Django's TimestampSigner(salt=f"taskapi.sync.token.{owner_id}") with SHA-256: HMAC keyed
    # by sha256(salt + "signer" + key), base64url without padding.
    derived = hashlib.sha256(f"{SYNC_SALT}.{owner_id}signer{key}".encode()).digest()
    return _b64(hmac.new(derived, value.encode(), hashlib.sha256).digest())


def sync_token_issue(owner_id: int, position: tuple[int, int], key: str) -> str:
    """What taskapi.sync.tokens.sync_token_issue returns: Django's `sign_object` of
    [seq, object_id], timestamped (base62 seconds) and signed."""
    stamp, now = "", int(time.time())
    while now:
        now, digit = divmod(now, 62)
        stamp = BASE62[digit] + stamp
    value = f"{_b64(orjson.dumps(list(position)))}:{stamp}"
    return f"{value}:{_sync_signature(value, owner_id, key)}"


def sync_token_read(owner_id: int, token: str, key: str, max_age: int) -> tuple[int, int] | None:
    """The (seq, object_id) a token holds, None unless this key signed it for this user; raises
    SyncTokenExpired when it is older than max_age seconds (checked after the signature)."""
    try:
        value, signature = token.rsplit(":", 1)
        if not hmac.compare_digest(signature, _sync_signature(value, owner_id, key)):
            return None
        payload, stamp = value.rsplit(":", 1)
        signed_at = 0
        for char in stamp:
            signed_at = signed_at * 62 + BASE62.index(char)
        if time.time() - signed_at > max_age:
            raise SyncTokenExpired()
        position = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, UnicodeError, orjson.JSONDecodeError):
        return None
    if (
        not isinstance(position, list)
        or len(position) != 2
        or not all(type(part) is int and part >= 0 for part in position)
    ):
        return None
    return position[0], position[1]


async def _task_changes(scope, send, user_id: int) -> None:
    """GET /tasks/changes/: the log's range after the token's position (the whole live log
    without one), then the live tasks among the ids it named: two queries at most."""
    params = dict(parse_qsl(scope["query_string"].decode("latin-1")))
    raw_size = params.get("page_size", str(CHANGES_PAGE_SIZE))
    if not (raw_size.isascii() and raw_size.isdigit() and len(raw_size) <= 6):
        return await _bad(send, "page_size")
    page_size = int(raw_size)
    if not 1 <= page_size <= CHANGES_MAX_PAGE_SIZE:
        return await _bad(send, "page_size")
    after = (0, 0)
    if "sync_token" in params:
        try:
            read = sync_token_read(
                user_id, params["sync_token"], state.secret_key, state.sync_token_max_age
            )
        except SyncTokenExpired:
            return await _problem(send, 410, "/problems/sync-token-expired", "Sync from scratch.")
        if read is None:
            return await _bad(send, "sync_token")
        after = read
    where, args = ["owner_id = %s", "kind = %s"], [user_id, SYNC_KIND]
    if after == (0, 0):
        where.append("NOT deleted")  # a full sync: the client holds nothing to delete
    else:
        where.append("seq >= %s AND (seq > %s OR object_id > %s)")
        args += [after[0], after[0], after[1]]
    async with state.pool.connection() as conn:
        cur = await conn.execute(
            f"SELECT object_id, seq, deleted FROM sync_change WHERE {' AND '.join(where)} "
            f"ORDER BY seq, object_id LIMIT {page_size + 1}",
            args,
        )
        rows = await cur.fetchall()
        has_more = len(rows) > page_size
        rows = rows[:page_size]
        changed = [object_id for object_id, _seq, deleted in rows if not deleted]
        live: dict[int, tuple] = {}
        if changed:
            cur = await conn.execute(
                f"{SELECT} WHERE {MEMBER_OF} AND {LIVE} AND id = ANY(%s)",
                (user_id, user_id, changed),
            )
            live = {row[0]: row for row in await cur.fetchall()}
    position = (rows[-1][1], rows[-1][0]) if rows else after
    body = {
        "tasks": [_task(live[task_id]) for task_id in changed if task_id in live],
        "deleted": [
            *(object_id for object_id, _seq, deleted in rows if deleted),
            *(task_id for task_id in changed if task_id not in live),
        ],
        "sync_token": sync_token_issue(user_id, position, state.secret_key),
        "has_more": has_more,
    }
    await _send(send, 200, _dumps(body))


# --- the app -----------------------------------------------------------------------------------
async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await _startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await _shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return
    path, method = scope["path"], scope["method"]
    if path == "/health/":
        return await _send(send, 200, b'{"status":"ok"}')
    if not path.startswith("/tasks/"):
        return await _problem(send, 404, "about:blank", "No resource exists at this URL.")
    user_id = await _authenticate(scope["headers"])
    if user_id is None:
        return await _problem(
            send,
            401,
            "/problems/not-authenticated",
            "The access token is invalid.",
            [(b"www-authenticate", b'Bearer realm="api", error="invalid_token"')],
        )
    if path in ("/tasks/changes/", "/tasks/trash/"):
        if method != "GET":
            return await _problem(send, 405, "about:blank", "Method not allowed.")
        if path == "/tasks/changes/":
            return await _task_changes(scope, send, user_id)
        return await _task_trash_list(scope, send, user_id)
    if path == "/tasks/":
        if method == "GET":
            return await _task_list(scope, send, user_id)
        if method == "POST":
            return await _task_create(scope, receive, send, user_id)
        return await _problem(send, 405, "about:blank", "Method not allowed.")
    raw_id = path[len("/tasks/") :].rstrip("/")
    if not raw_id.isdigit() or int(raw_id) > MAX_ID or not path.endswith("/"):
        return await _problem(send, 404, "/problems/not-found", "Task not found.")
    if method == "GET":
        return await _task_get(scope, send, user_id, int(raw_id))
    if method == "PATCH":
        return await _task_patch(scope, receive, send, user_id, int(raw_id))
    return await _problem(send, 405, "about:blank", "Method not allowed.")
