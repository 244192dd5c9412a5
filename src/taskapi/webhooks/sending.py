"""One HTTP POST to a receiver, bounded in every way: connect timeout, a total deadline, no
redirects followed, at most RESPONSE_BODY_MAX_LENGTH characters of the answer read.

An answer counts only when it is complete before the deadline: its status line, all its headers,
and its body up to what is read. An answer still arriving at the deadline, or one the receiver
cut short, is no answer (an error, so the attempt is retried), whatever its status line said.

It connects to the address the SSRF check accepted (ssrf.Target), and speaks TLS to the host
name (SNI and certificate verification against the system's CAs), so a DNS answer that changes
between the check and the connection cannot redirect it.
"""

import contextlib
import http.client
import io
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

from taskapi.webhooks.models import ERROR_MAX_LENGTH, RESPONSE_BODY_MAX_LENGTH
from taskapi.webhooks.ssrf import Target

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

USER_AGENT = "cloud-task-api-webhooks/1"
# The most of an answer's body read: enough bytes for RESPONSE_BODY_MAX_LENGTH characters of UTF-8.
BODY_READ_MAX_BYTES = RESPONSE_BODY_MAX_LENGTH * 4
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


class AnswerIncomplete(http.client.HTTPException):
    """The receiver closed the connection before its answer was complete."""


class _DeadlineReader(io.RawIOBase):
    """The answer's bytes from the socket, each read waiting at most until the deadline, so a
    receiver that trickles its answer cannot hold a read past it; and whether the stream ended,
    which http.client takes for the end of the headers without saying so."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline
        self.ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "WriteableBuffer", /) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the deadline passed")
        self._sock.settimeout(left)
        count = self._sock.recv_into(buffer)
        self.ended = self.ended or count == 0
        return count


class _Response(http.client.HTTPResponse):
    """http.client's response, read through a _DeadlineReader, refusing headers that the end of
    the stream (the receiver's close, or the deadline's cut) ended instead of a blank line."""

    def __init__(self, sock: socket.socket, *, deadline: float) -> None:
        super().__init__(sock, method="POST")
        self.fp.close()  # the socket's own reader, replaced before anything is read
        self._reader = _DeadlineReader(sock, deadline)
        self.fp = io.BufferedReader(self._reader)

    def begin(self) -> None:
        super().begin()
        if self._reader.ended:
            raise AnswerIncomplete("the answer ended before its headers did")

    def read_bounded(self) -> bytes:
        """The body's first BODY_READ_MAX_BYTES bytes, all of them if it is shorter."""
        declared = self.length  # None: chunked (http.client checks it) or up to the close
        data = self.read(BODY_READ_MAX_BYTES)
        # Given a size, http.client's read returns whatever came before the close, short or not.
        if declared is not None and len(data) < min(declared, BODY_READ_MAX_BYTES):
            raise AnswerIncomplete("the answer ended before its body did")
        return data


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
        # Read directly rather than by getresponse(): the connection serves this one request,
        # and its answer is read through the deadline.
        response = _Response(connection.sock, deadline=deadline)
        response.begin()
        data = response.read_bounded()
        if cut.is_set():  # what looked like the end of the answer may be the cut
            return Answer(None, f"timed out after {total:g} s", None)
        text = data.decode("utf-8", "replace")
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
    if isinstance(exc, AnswerIncomplete):
        return str(exc)
    if isinstance(exc, http.client.IncompleteRead):
        return "the answer ended before its body did"
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:ERROR_MAX_LENGTH]
