"""What every paginated list shares: the `page_size` rule, and a cursor that is a 400 when bad."""

import re

from rest_framework.exceptions import ErrorDetail, NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request


def invalid_parameter(field: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({field: [ErrorDetail(message, code=code)]})


def page_size_from(raw: str | None, *, default: int, maximum: int) -> int:
    """The `page_size` query parameter: digits only, 1 to `maximum`, else a 400 naming it."""
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]+", raw):
        raise invalid_parameter("page_size", "A valid integer is required.")
    size = int(raw) if len(raw) <= 6 else maximum + 1
    if size < 1:
        raise invalid_parameter(
            "page_size", "Ensure this value is greater than or equal to 1.", "min_value"
        )
    if size > maximum:
        raise invalid_parameter(
            "page_size", f"Ensure this value is less than or equal to {maximum}.", "max_value"
        )
    return size


class StrictCursorPagination(CursorPagination):
    """DRF's cursor pagination, where a bad `page_size` is the contract's 400 (DRF falls back
    to the default instead)."""

    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"
    template = None
    invalid_cursor_message = "Invalid cursor: use a next or previous link as given."

    def get_page_size(self, request: Request) -> int:
        return page_size_from(
            request.query_params.get(self.page_size_query_param),
            default=self.page_size,
            maximum=self.max_page_size,
        )


class NewestFirstPagination(StrictCursorPagination):
    """Keyset pages on the primary key, newest first: DRF's cursor, which on a unique key
    never needs an offset, with the contract's 400 for a bad `cursor`."""

    ordering = "-id"

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
            if cursor is not None:
                if cursor.offset != 0 or cursor.position is None:
                    raise ValueError("not one of our cursors")
                if not 0 <= int(cursor.position) < 2**63:
                    raise ValueError("not an id")
        except (NotFound, ValueError, TypeError):
            raise invalid_parameter(self.cursor_query_param, self.invalid_cursor_message) from None
        return cursor
