"""The benchmark's baseline: the task API's hot routes as a bare ASGI app, no Django.

It does the work the project must do and nothing else, so its figures are the practical limit of
this machine and stack: verify the HS256 access token (PyJWT, the same key and claim checks as
taskapi.accounts.authentication, including the token-version check in Redis under Django's cache
key), run the same SQL through a psycopg pool of the same size, and write the same JSON with
orjson. Served by the same Uvicorn flags, workers and nginx as the project.

Routes: GET /health/, GET and POST /tasks/, GET and PATCH /tasks/{id}/.
Configured by the project's environment variables (DATABASE_URL, REDIS_URL, DJANGO_SECRET_KEY or
JWT_SIGNING_KEY, ACCESS_TOKEN_LIFETIME, DB_POOL_MIN_SIZE, DB_POOL_MAX_SIZE, DB_POOL_TIMEOUT,
DB_STATEMENT_TIMEOUT_MS).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from urllib.parse import parse_qsl, urlencode

import jwt
import orjson
import redis.asyncio as aioredis
from psycopg_pool import AsyncConnectionPool

MAX_ID = 2**63 - 1
PRIORITIES = {"low", "medium", "high"}
# Every column, as Django's SELECT of the model has them.
COLUMNS = (
    "id", "owner_id", "title", "description", "completed", "completed_at", "priority",
    "due_date", "version", "created_at", "updated_at",
)  # fmt: skip
SELECT = f"SELECT {', '.join(COLUMNS)} FROM tasks_task"
# ordering -> (column, descending); ties broken by id in the same direction. due_date is
# nullable: nulls last ascending, first descending (PostgreSQL's own defaults).
ORDERINGS = {
    name: (name.lstrip("-"), name.startswith("-"))
    for name in ("created_at", "-created_at", "due_date", "-due_date", "updated_at", "-updated_at")
}
JSON = [(b"content-type", b"application/json")]
PROBLEM = [(b"content-type", b"application/problem+json")]


class State:
    pool: AsyncConnectionPool
    redis: aioredis.Redis
    key: str
    token_lifetime: int


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
    state.key = os.environ.get("JWT_SIGNING_KEY") or os.environ["DJANGO_SECRET_KEY"]
    state.token_lifetime = _env_int("ACCESS_TOKEN_LIFETIME", 300)


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
        "id": row[0],
        "title": row[2],
        "description": row[3],
        "completed": row[4],
        "completed_at": row[5],
        "priority": row[6],
        "due_date": row[7],
        "created_at": row[9],
        "updated_at": row[10],
    }


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
    where: list[str], args: list, column: str, has_value: bool, descending: bool, seek, limit: int
) -> tuple[str, list]:
    """One index range: the rows with (or without) a value, after the seek position."""
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
        if column == "due_date":
            where.append(f"{column} IS NOT NULL")
        if seek:
            where.append(f"{column} {op}= %s AND ({column} {op} %s OR id {op} %s)")
            args += [seek[0], seek[0], seek[1]]
        order = f"{column} {direction}, id {direction}"
    return f"{SELECT} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT {limit}", args


async def _fetch(where, args, column: str, descending: bool, seek, limit: int) -> list[tuple]:
    # Nulls last ascending, first descending: a nullable key is walked as two segments.
    if column != "due_date":
        segments = [True]
    elif descending:
        segments = [False, True]
    else:
        segments = [True, False]
    if seek:
        segments = segments[segments.index(seek[0] is not None) :]
    rows: list[tuple] = []
    async with state.pool.connection() as conn:
        for index, has_value in enumerate(segments):
            sql, sql_args = _segment_sql(
                where, args, column, has_value, descending, seek if index == 0 else None,
                limit - len(rows),
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


async def _task_list(scope, send, user_id: int) -> None:
    params = dict(parse_qsl(scope["query_string"].decode("latin-1")))
    try:
        page_size = int(params.get("page_size", "20"))
        if not 1 <= page_size <= 100:
            raise ValueError
    except ValueError:
        return await _bad(send, "page_size")
    ordering = params.get("ordering", "-created_at")
    if ordering not in ORDERINGS:
        return await _bad(send, "ordering")
    column, descending = ORDERINGS[ordering]
    where, args = ["owner_id = %s"], [user_id]
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
    seek, backwards = None, False
    if "cursor" in params:
        try:
            value, after_id, backwards = _cursor_decode(params["cursor"], ordering)
        except (ValueError, TypeError, orjson.JSONDecodeError):
            return await _bad(send, "cursor")
        seek = (value, after_id)
    rows = await _fetch(where, args, column, descending != backwards, seek, page_size + 1)
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
        return f"{base}?{urlencode(query)}"

    body = {
        "results": [_task(row) for row in rows],
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
            f"{SELECT} WHERE owner_id = %s AND id = %s LIMIT 21", (user_id, task_id)
        )
        row = await cur.fetchone()
    if row is None:
        return await _problem(send, 404, "/problems/not-found", "Task not found.")
    etag = f'"{row[8]}"'.encode()
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
    async with state.pool.connection() as conn:
        cur = await conn.execute(
            "INSERT INTO tasks_task (owner_id, title, description, completed, completed_at, "
            "priority, due_date, version, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, 1, %s, %s) RETURNING id",
            (user_id, *task.values()),
        )
        (task_id,) = await cur.fetchone()
    body = _dumps({"id": task_id, **task})
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
    # As taskapi.tasks.services.task_update: read, then one UPDATE conditional on the version
    # read, setting the fields sent plus completed_at, updated_at and version.
    async with state.pool.connection() as conn:
        for _attempt in range(3):  # re-read and retry when another write slipped in between
            cur = await conn.execute(
                f"{SELECT} WHERE owner_id = %s AND id = %s LIMIT 21", (user_id, task_id)
            )
            row = await cur.fetchone()
            if row is None:
                return await _problem(send, 404, "/problems/not-found", "Task not found.")
            task = dict(zip(COLUMNS, row, strict=True))
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
            cur = await conn.execute(
                f"UPDATE tasks_task SET {assignments} "
                "WHERE owner_id = %s AND id = %s AND version = %s",
                (*values.values(), user_id, task_id, task["version"]),
            )
            written = cur.rowcount
            if written:
                break
    if not written:
        return await _problem(send, 409, "/problems/conflict", "The task changed meanwhile.")
    task.update(values)
    row = tuple(task[name] for name in COLUMNS)
    headers = [*JSON, (b"etag", f'"{task["version"]}"'.encode())]
    await _send(send, 200, _dumps(_task(row)), headers)


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
