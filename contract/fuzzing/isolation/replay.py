"""A generated request sent again as another subject, and what its answer is reduced to."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
import schemathesis

from contract.fuzzing.run import HOP_BY_HOP_HEADERS, http, request_id

if TYPE_CHECKING:
    from contract.fuzzing.auth import Account

# Far above any id this run creates, and still a valid int64 path parameter.
MISSING_ID_OFFSET = 10**15
# Headers that differ between any two responses; everything else must match between the
# "a project you are not in" and the "no such object" answers.
VOLATILE_HEADERS = {"date", "x-request-id", "content-length", "server", *HOP_BY_HOP_HEADERS}
_KEEP: Any = object()


def missing(object_id: int) -> int:
    return MISSING_ID_OFFSET + object_id


@dataclass
class Answer:
    """What a request got back, reduced to what must not depend on whose id it was."""

    status: int
    headers: dict[str, str]
    body: bytes
    curl: str = ""

    @classmethod
    def of(cls, response: requests.Response, curl: str = "") -> Answer:
        # Compared byte for byte: the not-found problem does not name the id, so a body that
        # differs between "not yours" and "does not exist" is a leak.
        headers = {
            name.lower(): value
            for name, value in response.headers.items()
            if name.lower() not in VOLATILE_HEADERS
        }
        return cls(response.status_code, headers, response.content, curl)

    def same_as(self, other: Answer) -> bool:
        return (self.status, self.headers, self.body) == (other.status, other.headers, other.body)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def problem(self) -> dict[str, Any]:
        body = self.json()
        return body if isinstance(body, dict) else {}

    def describe(self) -> str:
        return f"{self.status} {self.headers}\n{self.body[:500]!r}\n  reproduce: {self.curl}"


def replay_as(
    case: schemathesis.Case,
    who: Account | None,
    base_url: str,
    *,
    path_parameters: dict[str, Any] | None = None,
    query: Any = _KEEP,
    body: Any = _KEEP,
    extra_headers: dict[str, str] | None = None,
) -> Answer:
    """Send the generated request again as `who` (None: with no token at all): the same body,
    query and other headers, unless given here."""
    probe = case.derive()
    if path_parameters:
        probe.path_parameters.update(path_parameters)
    if query is not _KEEP:
        probe.query = query
    if body is not _KEEP:
        probe.body = body
    for name in ("Authorization", "X-Request-ID", *(extra_headers or {})):
        probe.headers.pop(name, None)
    if who is not None:
        probe.headers["Authorization"] = f"Bearer {who.access_token()}"
    probe.headers["X-Request-ID"] = request_id()
    probe.headers.update(extra_headers or {})
    if "Idempotency-Key" in probe.headers:
        # Two replays must not be taken for retries of each other: the second's other ids (or
        # body) would be a 422.
        probe.headers["Idempotency-Key"] = uuid.uuid4().hex
    kwargs = probe.as_transport_kwargs(base_url=base_url)
    # Set again after serializing: a negative case that removed a header (Authorization among
    # them) has Schemathesis drop it from whatever is derived from the case, the replay too.
    owned = {"Authorization", "X-Request-ID", *(extra_headers or {})}
    lowered = {name.lower() for name in owned}
    sent = {name: value for name, value in kwargs["headers"].items() if name.lower() not in lowered}
    sent.update({name: probe.headers[name] for name in owned if name in probe.headers})
    kwargs["headers"] = sent
    kwargs.pop("auth", None)
    kwargs.pop("timeout", None)
    response = http().request(**kwargs, timeout=10)
    return Answer.of(response, probe.as_curl_command(base_url=base_url))
