"""The one JSON parser of the API: orjson, strict, with a bounded nesting depth.

DRF's stock JSONParser is the standard library's, which recurses once per nesting level: a body
of 60,000 brackets (120 KB, well under the 1 MiB cap) raised RecursionError, a 500. orjson parses
without recursing in Python and refuses what the stdlib lets through (lone surrogates, NaN,
Infinity, a byte-order mark, invalid UTF-8), so each of those is a 400 here too.

orjson stops at 1024 levels by itself, which is still deep enough to hurt later: `str()` of a
1,000-deep list (a validation message does that) raises RecursionError. No body of this API
nests more than a few levels, so anything beyond MAX_DEPTH is refused before validation sees it.
"""

from collections.abc import Mapping
from typing import IO, Any

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.request import Request

MAX_DEPTH = 32


class JsonParser(BaseParser):
    media_type = "application/json"

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        body = stream.read()
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        # Each level needs an opening bracket: with fewer brackets than the limit, skip the walk.
        if body.count(b"[") + body.count(b"{") > MAX_DEPTH and _depth_exceeds(data, MAX_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels")
        return data


def _depth_exceeds(data: Any, limit: int) -> bool:
    """Whether containers nest deeper than `limit`, without recursion (the point of it all)."""
    stack: list[tuple[Any, int]] = [(data, 1)] if isinstance(data, (dict, list)) else []
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return False


def body_required(request: Request) -> None:
    """A malformed-request 400 when there is no body at all: `{}` is a body, nothing is not.

    DRF reads a request without content as empty data, which a PATCH serializer would take as
    "change nothing"; the contract requires the body.
    """
    if request.stream is None:
        raise ParseError("A JSON body is required.")
