"""The read path's JSON: GET /tasks/, GET /tasks/{id}/ and the trash's pages, rendered from row
values (`QuerySet.values()`) straight into bytes with orjson.

No model instances and no DRF serializer or renderer: on a list page they cost more than the
query (bench/README.md, "Measured levers"). The bytes are the ones DRF's path renders: TaskOut's
keys in its order, UTC timestamps ending in "Z" (no ".000000" at 0 us), dates as YYYY-MM-DD,
labels as ascending ids, compact separators, non-ASCII kept, and U+2028/U+2029 escaped as
DRF's JSONRenderer escapes them. TaskOut stays the schema's source and renders every other
route; tests/tasks/test_render.py holds the two together.
"""

from collections.abc import Iterable
from typing import Any

import orjson
from django.db.models import QuerySet
from django.http import HttpResponse
from rest_framework.pagination import CursorPagination

from taskapi.tasks.models import Task

# The columns a task's body needs, and its version (the ETag).
TASK_COLUMNS = (
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
    "label_ids_text",  # selectors._with_label_ids
    "parent_id",
    "position",
    "project_id",
    "assignee_id",
    "version",
)

Row = dict[str, Any]
Body = dict[str, Any]

_LINE_SEPARATOR = "\u2028".encode()
_PARAGRAPH_SEPARATOR = "\u2029".encode()


def task_rows(tasks: QuerySet[Task], *columns: str) -> QuerySet[Task, Row]:
    """The tasks as rows of TASK_COLUMNS and `columns` (a sort key the body lacks)."""
    # The plugin cannot type values() of names it does not see as literals.
    rows: QuerySet[Task, Row] = tasks.values(*dict.fromkeys((*TASK_COLUMNS, *columns)))
    return rows


def task_body(row: Row) -> Body:
    """TaskOut's dict of one row; datetimes and dates are left to orjson (json_bytes)."""
    label_ids = row["label_ids_text"]
    return {
        "id": row["id"],
        "title": row["title"],
        "description": row["description"],
        "completed": row["completed"],
        "completed_at": row["completed_at"],
        "priority": row["priority"],
        "due_date": row["due_date"],
        "due_at": row["due_at"],
        "time_zone": row["time_zone"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "labels": sorted(int(part) for part in label_ids.split(",")) if label_ids else [],
        "parent_id": row["parent_id"],
        "position": row["position"],
        "project_id": row["project_id"],
        "assignee_id": row["assignee_id"],
    }


def trashed_task_body(row: Row) -> Body:
    return {**task_body(row), "deleted_at": row["deleted_at"]}


def page_body(paginator: CursorPagination, rows: Iterable[Row], *, trashed: bool = False) -> Body:
    """A page as DRF's CursorPagination.get_paginated_response shapes it."""
    body = trashed_task_body if trashed else task_body
    return {
        "next": paginator.get_next_link(),
        "previous": paginator.get_previous_link(),
        "results": [body(row) for row in rows],
    }


def json_bytes(body: object) -> bytes:
    # Every datetime read from the database is aware and in UTC (USE_TZ): OPT_UTC_Z writes
    # "+00:00" as "Z", and orjson, like isoformat(), leaves out microseconds that are 0.
    content = orjson.dumps(body, option=orjson.OPT_UTC_Z)
    if b"\xe2\x80" in content:  # the UTF-8 lead bytes of both separators
        content = content.replace(_LINE_SEPARATOR, b"\\u2028")
        content = content.replace(_PARAGRAPH_SEPARATOR, b"\\u2029")
    return content


def json_response(body: object, *, headers: dict[str, str] | None = None) -> HttpResponse:
    """A 200 with the body DRF's JSONRenderer would give (same Content-Type, no charset)."""
    return HttpResponse(json_bytes(body), content_type="application/json", headers=headers)
