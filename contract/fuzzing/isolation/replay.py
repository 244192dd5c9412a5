"""A generated request sent again as another user, and the comparison of two such answers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
import schemathesis

from contract.fuzzing.run import HOP_BY_HOP_HEADERS, http, request_id

if TYPE_CHECKING:
    from contract.fuzzing.auth import Account
    from contract.fuzzing.fixtures import Snapshot

# Far above any id this run creates, and still a valid int64 path parameter.
MISSING_ID_OFFSET = 10**15
# Headers that differ between any two responses; everything else must match between the
# "another user's object" and the "no such object" answers.
VOLATILE_HEADERS = {"date", "x-request-id", "content-length", "server", *HOP_BY_HOP_HEADERS}


@dataclass
class Answer:
    """What a request got back, reduced to what must not depend on whose id it was."""

    status: int
    headers: dict[str, str]
    body: bytes
    curl: str

    @classmethod
    def of(cls, response: requests.Response, curl: str) -> Answer:
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

    def describe(self) -> str:
        return f"{self.status} {self.headers}\n{self.body[:500]!r}\n  reproduce: {self.curl}"


def replay_as(
    case: schemathesis.Case,
    intruder: Account,
    base_url: str,
    *,
    path_parameters: dict[str, Any] | None = None,
    extra_headers: dict[str, str] | None = None,
    body: Any = None,
    fresh_idempotency_key: bool = False,
) -> tuple[requests.Response, str]:
    """Send the generated request again, as `intruder`: same body, query and other headers."""
    probe = case.derive()
    if path_parameters:
        probe.path_parameters.update(path_parameters)
    if body is not None:
        probe.body = body
    for name in ("Authorization", "X-Request-ID", *(extra_headers or {})):
        probe.headers.pop(name, None)
    probe.headers["Authorization"] = f"Bearer {intruder.access_token()}"
    probe.headers["X-Request-ID"] = request_id()
    probe.headers.update(extra_headers or {})
    if fresh_idempotency_key and "Idempotency-Key" in probe.headers:
        # Two probes must not be taken for retries of each other: the second's other ids (or
        # body) would be a 422.
        probe.headers["Idempotency-Key"] = uuid.uuid4().hex
    kwargs = probe.as_transport_kwargs(base_url=base_url)
    kwargs.pop("auth", None)
    kwargs.pop("timeout", None)
    response = http().request(**kwargs, timeout=10)
    return response, probe.as_curl_command(base_url=base_url)


def theirs_and_nobodys(
    object_id: int, replay: Callable[[int], tuple[requests.Response, str]]
) -> tuple[Answer, Answer]:
    """The answers to `replay` naming A's `object_id`, then naming an id nobody owns."""
    theirs = Answer.of(*replay(object_id))
    nobodys = Answer.of(*replay(MISSING_ID_OFFSET + object_id))
    return theirs, nobodys


def require_unchanged(before: Snapshot, after: Snapshot, headline: str, curl: str) -> None:
    if not before.same_as(after):
        raise AssertionError(
            f"{headline}\nBefore: {before.describe()}\nAfter:  {after.describe()}\n"
            f"B's request: {curl}"
        )
