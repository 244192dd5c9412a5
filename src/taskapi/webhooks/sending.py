"""One HTTP POST to a receiver, bounded in every way: connect timeout, a total deadline, no
redirects followed, at most RESPONSE_BODY_MAX_LENGTH characters of the answer read.

It connects to the address the SSRF check accepted (ssrf.Target), and speaks TLS to the host
name (SNI and certificate verification against the system's CAs), so a DNS answer that changes
between the check and the connection cannot redirect it.
"""

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from taskapi.webhooks.models import ERROR_MAX_LENGTH, RESPONSE_BODY_MAX_LENGTH
from taskapi.webhooks.ssrf import Target

USER_AGENT = "cloud-task-api-webhooks/1"
_tls = ssl.create_default_context()


@dataclass(frozen=True)
class Answer:
    status_code: int | None  # None: no HTTP answer (the error says why)
    error: str | None
    body: str | None

    @property
    def is_success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.address, target.port, timeout=timeout)
        self.target = target

    def connect(self) -> None:
        sock = socket.create_connection((self.target.address, self.target.port), self.timeout)
        if self.target.scheme == "https":
            sock = _tls.wrap_socket(sock, server_hostname=self.target.host)
        self.sock = sock


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def send(*, target: Target, headers: dict[str, str], body: bytes) -> Answer:
    total = settings.WEBHOOKS_TIMEOUT
    connection = _PinnedConnection(target, timeout=settings.WEBHOOKS_CONNECT_TIMEOUT)
    # The deadline: a receiver that answers one byte at a time never holds a worker longer.
    deadline = time.monotonic() + total
    cut = threading.Event()
    watchdog = threading.Timer(total, _cut, args=(connection, cut))
    watchdog.start()
    connected = False
    try:
        connection.connect()
        connected = True
        # Each read waits at most until the deadline, so a read that times out after the
        # connection is made means the total was spent, whichever of it and the watchdog (a
        # thread a busy machine may schedule late) comes first.
        connection.sock.settimeout(max(deadline - time.monotonic(), 0.001))
        connection.putrequest("POST", target.path, skip_host=True, skip_accept_encoding=True)
        for name, value in {
            "Host": _host_header(target),
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            **headers,
        }.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        text = response.read(RESPONSE_BODY_MAX_LENGTH * 4).decode("utf-8", "replace")
        return Answer(response.status, None, text[:RESPONSE_BODY_MAX_LENGTH])
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if cut.is_set() or (connected and isinstance(exc, TimeoutError)):
            return Answer(None, f"timed out after {total:g} s", None)
        return Answer(None, _describe(exc), None)
    finally:
        watchdog.cancel()
        connection.close()


def _cut(connection: http.client.HTTPConnection, cut: threading.Event) -> None:
    cut.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed: nothing to cut
            sock.shutdown(socket.SHUT_RDWR)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:ERROR_MAX_LENGTH]
