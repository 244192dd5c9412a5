"""The floor apps' routes and views (see __init__.py): plain Django views, no DRF, no ORM.

The work, the SQL and the JSON are bench/baseline_app.py's, so that the only difference
between django-floor and the baseline is that Django serves the request.
"""

import base64
from urllib.parse import urlencode

import orjson
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path

from bench.baseline_app import (
    COLUMNS,
    LIVE,
    MAX_ID,
    MEMBER_OF,
    PROJECT_IDS,
    SELECT,
    VERSION,
    _segment_sql,
    access_token_claims,
)
from bench.baseline_app import _task as task_dict

JSON = "application/json"
PROBLEM = "application/problem+json"
GONE = "gone"  # taskapi.accounts.token_versions: the cached marker of a deleted user
ORDERING = "-created_at"  # the project's default ordering, the only one served here
CREATED_AT = COLUMNS.index("created_at")


def _json(body: object, *, status: int = 200, content_type: str = JSON) -> HttpResponse:
    return HttpResponse(
        orjson.dumps(body, option=orjson.OPT_UTC_Z), status=status, content_type=content_type
    )


def _problem(status: int, type_: str, detail: str) -> HttpResponse:
    body = {"type": type_, "title": detail, "status": status, "detail": detail}
    return _json(body, status=status, content_type=PROBLEM)


def _unauthenticated() -> HttpResponse:
    response = _problem(401, "/problems/not-authenticated", "The access token is invalid.")
    response["WWW-Authenticate"] = 'Bearer realm="api", error="invalid_token"'
    return response


# --- authentication: the baseline's, through Django's cache and connection ------------------
def _token_version(user_id: int) -> int | None:
    # The project's key (taskapi.accounts.token_versions), so both fill and read one cache.
    key = f"tokver:{user_id}"
    cached = cache.get(key)
    if cached == GONE:
        return None
    if isinstance(cached, int):
        return cached
    with connection.cursor() as cursor:
        cursor.execute("SELECT token_version FROM accounts_user WHERE id = %s LIMIT 1", [user_id])
        row = cursor.fetchone()
    version = row[0] if row else None
    cache.add(key, GONE if version is None else version, settings.ACCESS_TOKEN_LIFETIME)
    return version


def _authenticate(request: HttpRequest) -> int | None:
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    claimed = access_token_claims(parts[1], settings.SIMPLE_JWT["SIGNING_KEY"])
    if claimed is None:
        return None
    user_id, version = claimed
    if _token_version(user_id) != version:
        return None
    return user_id


# --- views ------------------------------------------------------------------------------------
def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b'{"status":"ok"}', content_type=JSON)


def task_list(request: HttpRequest) -> HttpResponse:
    """Page 1 of the default ordering only: the list scenario, not the cursor walk."""
    if request.method != "GET":
        return _problem(405, "about:blank", "Method not allowed.")
    user_id = _authenticate(request)
    if user_id is None:
        return _unauthenticated()
    raw = request.GET.get("page_size", "20")
    if set(request.GET) - {"page_size"}:
        return _problem(400, "/problems/validation-error", "Only page_size is served here.")
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 100):
        return _problem(400, "/problems/validation-error", "page_size is invalid.")
    page_size = int(raw)
    with connection.cursor() as cursor:
        # The user's projects, then the page over them (the baseline's SQL).
        cursor.execute(PROJECT_IDS, [user_id])
        projects = [project for (project,) in cursor.fetchall()]
        rows = []
        if projects:
            sql, args = _segment_sql(
                user_id, projects, [LIVE], [], "created_at", True, True, None, page_size + 1
            )
            cursor.execute(sql, args)
            rows = cursor.fetchall()
    next_link = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        # The baseline's cursor: [ordering, position, id, backwards].
        raw_cursor = orjson.dumps([ORDERING, last[CREATED_AT].isoformat(), last[0], 0])
        cursor_text = base64.urlsafe_b64encode(raw_cursor).decode().rstrip("=")
        query = urlencode({"page_size": page_size, "cursor": cursor_text})
        next_link = f"{request.build_absolute_uri(request.path)}?{query}"
    return _json({"next": next_link, "previous": None, "results": [task_dict(row) for row in rows]})


def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    if request.method != "GET":
        return _problem(405, "about:blank", "Method not allowed.")
    user_id = _authenticate(request)
    if user_id is None:
        return _unauthenticated()
    row = None
    if task_id <= MAX_ID:
        with connection.cursor() as cursor:
            cursor.execute(
                f"{SELECT} WHERE {MEMBER_OF} AND {LIVE} AND id = %s LIMIT 21",
                [user_id, user_id, task_id],
            )
            row = cursor.fetchone()
    if row is None:
        # 404 rather than 403: a 403 would confirm the id exists.
        return _problem(404, "/problems/not-found", "Task not found.")
    etag = f'"{row[VERSION]}"'
    if request.META.get("HTTP_IF_NONE_MATCH") == etag:
        response = HttpResponse(status=304)
    else:
        response = _json(task_dict(row))
    response["ETag"] = etag
    return response


def empty(request: HttpRequest, **route: object) -> HttpResponse:
    return HttpResponse(b"{}", content_type=JSON)


if settings.FLOOR_MODE == "async":
    from bench.django_floor.async_views import baseline_in_django

    urlpatterns = [
        path("health/", baseline_in_django),
        path("tasks/", baseline_in_django),
        path("tasks/<int:task_id>/", baseline_in_django),
    ]
elif settings.FLOOR_MODE == "empty":
    urlpatterns = [
        path("health/", empty),
        path("tasks/", empty),
        path("tasks/<int:task_id>/", empty),
    ]
else:
    urlpatterns = [
        path("health/", health),
        path("tasks/", task_list),
        path("tasks/<int:task_id>/", task_detail),
    ]
