"""Keyset (seek) pagination of tasks on (ordering key, id), in DRF's CursorPagination frame.

DRF's stock cursor seeks on the first ordering field only and skips ties with an OFFSET (capped
at 1000): with many equal values it fails, and a NULL due_date has no position at all. Here the
position is the full key (value, id) of the last (or first) row shown, and a page is fetched
with `WHERE key after position ORDER BY key LIMIT n+1`: page 1000 costs what page 1 costs,
and concurrent inserts never shift what a cursor points at.

The encoding (base64 of a query string), link building and response shape are DRF's. A page
is a list of rows (`QuerySet.values()`, tasks/render.py), not of model instances.

NULL due dates sort last ascending and first descending; SQL cannot compare them with `>`, so
a nullable key is walked as two segments (dated rows, then undated ones, or the other way round)
each of which is a plain index range on (owner, due_day, id). A page that crosses from one
segment into the other costs a second query; no page costs more than two.

The `due_date` ordering walks the internal column due_day (tasks/due.py): the due date of an
all-day task, the local date of a timed one. Its cursors hold that day, as they held the due
date before due_day existed, so cursors issued then still work.
"""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor
from rest_framework.request import Request

from taskapi.core.pagination import StrictCursorPagination
from taskapi.core.pagination import invalid_parameter as _invalid
from taskapi.core.scoping import MAX_ID
from taskapi.tasks.filters import DEFAULT_ORDERING
from taskapi.tasks.models import Task
from taskapi.tasks.render import Row
from taskapi.tasks.selectors import task_page_slice

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# The column behind the `due_date` ordering.
DUE_DAY = "due_day"

Value = datetime | date | int | None


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool
    nullable: bool

    @classmethod
    def parse(cls, ordering: str) -> "SortKey":
        name = ordering.lstrip("-")
        field = DUE_DAY if name == "due_date" else name
        return cls(field=field, descending=ordering.startswith("-"), nullable=field == DUE_DAY)

    def value_of(self, row: Row) -> Value:
        value: Value = row[self.field]
        return value

    def parse_value(self, raw: object) -> Value:
        """A value read back from a cursor; ValueError if it is not one this key can hold."""
        if raw is None:
            if not self.nullable:
                raise ValueError("null position")
            return None
        if self.field == "position":
            # JSON integers only: True is an int to Python, 1.5 and "1" are not positions.
            if type(raw) is not int or not -(2**63) <= raw < 2**63:
                raise ValueError("not an integer position")
            return raw
        if not isinstance(raw, str):
            raise ValueError("position is not a string")
        if self.field == DUE_DAY:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
                raise ValueError("not a date")
            return date.fromisoformat(raw)
        value = datetime.fromisoformat(raw)
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value


@dataclass(frozen=True)
class SeekPoint:
    value: Value
    id: int


class TaskCursorPagination(StrictCursorPagination):
    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    ordering = DEFAULT_ORDERING
    # Where the requested page starts (None: the first page), set by paginate_queryset.
    position: SeekPoint | None

    def __init__(self, *, ordering: str = DEFAULT_ORDERING, projects: Sequence[int] = ()) -> None:
        self.ordering = ordering
        self.sort_key = SortKey.parse(ordering)
        # The projects the rows span (selectors.task_page_projects): with several, each page
        # segment is read project by project (selectors.task_page_slice).
        self.projects = projects

    # --- request parameters -------------------------------------------------------------------

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)  # DRF's base64 + query string decoding
            if cursor is None:
                return None
            if cursor.offset != 0 or cursor.position is None:
                raise ValueError("not one of our cursors")
            # DRF's cursor positions are strings (read from the query string); its stubs say int.
            self.position = self._decode_position(cursor.position)  # type: ignore[arg-type]
        except (NotFound, ValueError, TypeError):
            # DRF answers a bad cursor with 404; the page exists, the parameter is wrong: 400.
            raise _invalid(self.cursor_query_param, self.invalid_cursor_message) from None
        return cursor

    def _decode_position(self, raw: str) -> SeekPoint:
        ordering, value, task_id = json.loads(raw)
        # A cursor is only meaningful for the ordering it was made for.
        if ordering != self.ordering:
            raise ValueError("cursor of another ordering")
        if type(task_id) is not int or not 1 <= task_id <= MAX_ID:
            raise ValueError("bad id")
        return SeekPoint(value=self.sort_key.parse_value(value), id=task_id)

    def _encode_position(self, row: Row) -> str:
        value = self.sort_key.value_of(row)
        raw = value.isoformat() if isinstance(value, date) else value
        return json.dumps([self.ordering, raw, row["id"]], separators=(",", ":"))

    # --- the page -----------------------------------------------------------------------------

    # Rows of tasks only, from the view's own call: DRF's signature is generic over any queryset.
    def paginate_queryset(  # type: ignore[override]
        self, queryset: QuerySet[Task, Row], request: Request, view: object = None
    ) -> list[Row]:
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.position = None
        self.cursor = self.decode_cursor(request)
        reverse = bool(self.cursor and self.cursor.reverse)

        rows = self._fetch(queryset, reverse=reverse, limit=self.page_size + 1)
        has_more = len(rows) > self.page_size
        self.page = rows[: self.page_size]
        if reverse:
            self.page.reverse()
            self.has_next, self.has_previous = True, has_more
        else:
            self.has_next, self.has_previous = has_more, self.position is not None
        return self.page

    def _fetch(self, queryset: QuerySet[Task, Row], *, reverse: bool, limit: int) -> list[Row]:
        """Up to `limit` rows after the position, in the walk's direction, segment by segment."""
        key = self.sort_key
        descending = key.descending != reverse
        # Nulls come last in an ascending walk and first in a descending one; reversing the walk
        # turns "ascending, nulls last" into "descending, nulls first", so this holds both ways.
        # Each segment is "has a value" (True) or "is null" (False).
        if not key.nullable:
            segments = [True]
        elif descending:
            segments = [False, True]
        else:
            segments = [True, False]
        position = self.position
        if position is not None:
            # Start in the segment that holds the position (dated or not).
            segments = segments[segments.index(position.value is not None) :]

        rows: list[Row] = []
        for index, has_value in enumerate(segments):
            seek = position if index == 0 else None
            segment = self._segment(queryset, has_value, descending, seek)
            rows.extend(task_page_slice(segment, projects=self.projects, limit=limit - len(rows)))
            if len(rows) >= limit:
                break
        return rows

    def _segment(
        self,
        queryset: QuerySet[Task, Row],
        has_value: bool,
        descending: bool,
        seek: SeekPoint | None,
    ) -> QuerySet[Task, Row]:
        field = self.sort_key.field
        sign = "-" if descending else ""
        after = "lt" if descending else "gt"
        if not has_value:
            # Ordering by the (constant, null) field too lets PostgreSQL walk the
            # (owner, due_day, id) index instead of sorting every undated row by id.
            qs = queryset.filter(**{f"{field}__isnull": True}).order_by(
                f"{sign}{field}", f"{sign}id"
            )
            return qs.filter(**{f"id__{after}": seek.id}) if seek else qs
        if self.sort_key.nullable:
            queryset = queryset.filter(**{f"{field}__isnull": False})
        qs = queryset.order_by(f"{sign}{field}", f"{sign}id")
        if seek is None:
            return qs
        # `field >= v` alone is an index range start on (owner, field, id); the OR only drops
        # the rows tied with the position that were already shown.
        return qs.filter(
            Q(**{f"{field}__{after}e": seek.value})
            & (Q(**{f"{field}__{after}": seek.value}) | Q(**{f"id__{after}": seek.id}))
        )

    # --- links --------------------------------------------------------------------------------

    def get_next_link(self) -> str | None:
        if not (self.has_next and self.page):
            return None
        position = self._encode_position(self.page[-1])
        # A string position, as DRF's own (see decode_cursor).
        return self.encode_cursor(Cursor(offset=0, reverse=False, position=position))  # type: ignore[arg-type]

    def get_previous_link(self) -> str | None:
        if not (self.has_previous and self.page):
            return None
        position = self._encode_position(self.page[0])
        # A string position, as DRF's own (see decode_cursor).
        return self.encode_cursor(Cursor(offset=0, reverse=True, position=position))  # type: ignore[arg-type]
