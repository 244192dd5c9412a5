"""Who the run's requests are made as, and that A's access token never goes stale.

Users registered for the run: A makes every generated request and owns the shared projects; E, V,
B, R and I are the other subjects the matrix check replays A's requests as (contract/fuzzing/
sharing.py says who is what); C owns the webhooks their requests are tried on. `UserA` is the auth
provider: it registers A, logs in, and keeps the access token fresh through POST /auth/refresh/
before it expires (no long token lifetime as a shortcut).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import schemathesis

from contract.fuzzing import run
from contract.fuzzing.run import http, lock, problem, record, request_id

# Refresh when less than this share of the token's lifetime is left: a request started just
# before expiry must still arrive with a valid token.
REFRESH_WHEN_LEFT = 0.5


def _claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified: only to know when our own token expires."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class Account:
    """A user registered for this run, with an access token that is refreshed before it expires."""

    def __init__(self, label: str, base_url: str) -> None:
        self.label = label
        self.base_url = base_url.rstrip("/")
        self.email = f"contract-{label.lower()}-{uuid.uuid4().hex[:12]}@example.com"
        self.password = secrets.token_urlsafe(18)
        self._access = ""
        self._refresh = ""
        self._refresh_at = 0.0
        self._lock = threading.Lock()
        self._tokens_lock = threading.Lock()
        self._tokens: dict[frozenset[str], str] = {}
        self.issued_tokens: set[str] = set()
        self._user_id: int | None = None
        self.inbox: int | None = None  # sharing.inbox_of
        self._register()
        self._login()

    def _post(self, path: str, body: dict[str, str]) -> requests.Response:
        return http().post(
            f"{self.base_url}{path}",
            json=body,
            headers={"X-Request-ID": request_id()},
            timeout=10,
        )

    def _register(self) -> None:
        response = self._post("/auth/register/", {"email": self.email, "password": self.password})
        if response.status_code != 201:
            raise RuntimeError(
                f"registering user {self.label} failed: {response.status_code} {response.text}"
            )
        record(f"auth.register.{self.label}")

    def _login(self) -> None:
        response = self._post("/auth/login/", {"email": self.email, "password": self.password})
        if response.status_code != 200:
            raise RuntimeError(
                f"logging in user {self.label} failed: {response.status_code} {response.text}"
            )
        self._store(response.json())
        record(f"auth.login.{self.label}")

    def _renew(self) -> None:
        response = self._post("/auth/refresh/", {"refresh": self._refresh})
        if response.status_code != 200:
            raise RuntimeError(
                f"refreshing the token of user {self.label} failed: "
                f"{response.status_code} {response.text}"
            )
        self._store(response.json())
        record(f"auth.refresh.{self.label}")

    def _store(self, tokens: dict[str, str]) -> None:
        self._access, self._refresh = tokens["access"], tokens["refresh"]
        self.issued_tokens.add(self._access)
        claims = _claims(self._access)
        lifetime = claims["exp"] - claims["iat"]
        # The server's clock, not ours: the token's own iat/exp pair says how long it lives.
        self._refresh_at = time.monotonic() + lifetime * (1 - REFRESH_WHEN_LEFT)

    def personal_token(self, scopes: frozenset[str]) -> str:
        """A personal access token of this user with exactly `scopes`, made with a login on
        first use: one per scope set, kept for the run (they outlive it by a week)."""
        with self._tokens_lock:
            text = self._tokens.get(scopes)
            if text is None:
                expiry = datetime.now(UTC) + timedelta(days=7)
                body = {
                    "name": f"fuzzing {len(self._tokens)}",
                    "scopes": sorted(scopes),
                    "expires_at": expiry.isoformat(),
                }
                response = self.request("POST", "/auth/tokens/", json=body)
                if response.status_code != 201:
                    raise RuntimeError(
                        f"user {self.label}'s token with {sorted(scopes)}: "
                        f"{response.status_code} {response.text}"
                    )
                text = self._tokens[scopes] = response.json()["token"]
                record(f"auth.personal_token.{self.label}")
            return text

    def access_token(self) -> str:
        with self._lock:
            if time.monotonic() >= self._refresh_at:
                self._renew()
            return self._access

    @property
    def user_id(self) -> int:
        if self._user_id is None:
            me = self.request("GET", "/auth/me/")
            if me.status_code != 200:
                raise RuntimeError(f"user {self.label}'s GET /auth/me/: {me.status_code}")
            self._user_id = me.json()["id"]
        return self._user_id

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {
            "Authorization": f"Bearer {self.access_token()}",
            "X-Request-ID": request_id(),
            **kwargs.pop("headers", {}),
        }
        return http().request(
            method, f"{self.base_url}{path}", headers=headers, timeout=10, **kwargs
        )


_accounts: dict[str, Account] = {}
_setups: dict[str, list[Callable[[Account], None]]] = defaultdict(list)


def on_first_use(label: str, setup: Callable[[Account], None]) -> None:
    """Run `setup` on user `label` right after it is registered."""
    _setups[label].append(setup)


def account(label: str, base_url: str) -> Account:
    """User `label` of this run, registered on first use."""
    with lock:
        if label not in _accounts:
            _accounts[label] = Account(label, base_url)
            for setup in _setups[label]:
                setup(_accounts[label])
        return _accounts[label]


class UserA:
    """Every secured operation runs as user A. No caching layer: `Account` refreshes by expiry."""

    def get(self, case: schemathesis.Case, ctx: schemathesis.AuthContext) -> str:
        return account("A", run.base_url(case.operation)).access_token()

    def set(self, case: schemathesis.Case, data: str, ctx: schemathesis.AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {data}"


def before_call(ctx: schemathesis.HookContext, case: schemathesis.Case, kwargs: Any) -> None:
    """Send A's current access token in place of an older one of A's.

    The coverage phase builds every case of an operation, with A's token of that moment, before
    its first request; a phase that outlasts the token (the bulk write's, on PostgreSQL behind
    nginx, took 60 s) would send expired tokens the provider never got the chance to refresh.
    Only A's own earlier tokens are swapped: a missing, garbled or other token is sent as is.
    """
    header = case.headers.get("Authorization") if case.headers else None
    owner = _accounts.get("A")
    if owner is None or not isinstance(header, str) or not header.startswith("Bearer "):
        return
    token = header.removeprefix("Bearer ")
    if token in owner.issued_tokens:
        current = owner.access_token()
        if token != current:
            case.headers["Authorization"] = f"Bearer {current}"
            record("auth.token_renewed_before_call")


def auth_token_stays_valid(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case
) -> None:
    """A rejected access token that is A's current one means the refresh logic failed."""
    # Only the access token's own rejection counts, not a bad refresh token in a request body.
    if response.status_code != 401:
        return
    if problem(response).get("type") != "/problems/not-authenticated":
        return
    header = case.headers.get("Authorization", "")
    tokens = _accounts["A"].issued_tokens if "A" in _accounts else set()
    if header.startswith("Bearer ") and header.removeprefix("Bearer ") in tokens:
        record("auth.stale_token_401")
        raise AssertionError(
            "A request with user A's access token got 401: the token expired or was revoked "
            f"while in use.\n{response.content[:500]!r}"
        )


class TokenHolder:
    """An account as a script sees it: the same user, authenticating with one of their personal
    access tokens instead of a login (`access_token` is what replays send)."""

    def __init__(self, owner: Account, scopes: frozenset[str]) -> None:
        self.owner = owner
        self.scopes = scopes

    def access_token(self) -> str:
        return self.owner.personal_token(self.scopes)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.owner, name)
