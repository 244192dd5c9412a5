"""What every part of the contract run shares: one lock, the counters the pytest side reads, the
HTTP session and request ids of the run's own requests, the server's address, problem bodies."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections import Counter
from collections.abc import Mapping
from typing import Any

import requests
import schemathesis

# The coverage report tells the run's own requests from Schemathesis' by this prefix.
ISOLATION_REQUEST_ID_PREFIX = "isolation-"
# Hop-by-hop headers (RFC 9110 7.6.1) describe the connection, not the answer: nginx closes a
# client connection after its keepalive_requests, whichever request that happens to be.
HOP_BY_HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "te", "transfer-encoding"}

# One lock for the run: it guards the counters, and each check's sequence of requests (create,
# replay, read back) holds it, so no other check's requests come in between.
lock = threading.RLock()
_stats: Counter[str] = Counter()


def record(*keys: str) -> None:
    """Count one of each `key` in the JSON file named by CONTRACT_STATS_FILE, so the pytest side
    can prove that a check or a token refresh really ran."""
    count(Counter(keys))


def count(amounts: Mapping[str, int]) -> None:
    with lock:
        for key, amount in amounts.items():
            _stats[key] += amount
        path = os.environ.get("CONTRACT_STATS_FILE")
        if path:
            tmp = f"{path}.tmp"
            with open(tmp, "w") as handle:
                json.dump(dict(_stats), handle, indent=1, sort_keys=True)
            os.replace(tmp, path)


_local = threading.local()


def http() -> requests.Session:
    """One keep-alive session per thread: the checks send thousands of small requests."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def request_id() -> str:
    return f"{ISOLATION_REQUEST_ID_PREFIX}{uuid.uuid4().hex}"


def base_url(operation: schemathesis.APIOperation) -> str:
    return os.environ.get("CONTRACT_BASE_URL") or operation.schema.get_base_url()


def problem(response: schemathesis.Response | requests.Response) -> dict[str, Any]:
    """The body of a problem+json answer as a dict; empty when the body is not a JSON object."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
