"""A real HTTP receiver of webhooks on a free loopback port: it records every request it gets
(method, path, headers, body) and answers from a script of statuses (then 204), or with raw
bytes written a piece at a time (a receiver that trickles its answer)."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when it arrived (time.monotonic)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Trickle:
    """An answer written as raw bytes, one piece every `every` seconds (the first at once),
    then the connection closed."""

    pieces: tuple[bytes, ...]
    every: float


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    script: deque[int] = field(default_factory=deque)  # statuses to answer, in order
    delay: float = 0.0  # seconds before answering
    holds: deque[float] = field(default_factory=deque)  # per-request delays, in order, then delay
    trickles: deque[Trickle] = field(default_factory=deque)  # raw answers, before the script
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def answer_with(self, *statuses: int) -> None:
        self.script.extend(statuses)

    def hold_next(self, *seconds: float) -> None:
        """Hold the next requests this long each before answering (a slow receiver)."""
        self.holds.extend(seconds)

    def trickle_next(self, *pieces: bytes, every: float) -> None:
        """Answer the next request with these bytes, one piece every `every` seconds, whatever
        they are (an unfinished status line, headers without their end, a short body)."""
        self.trickles.append(Trickle(pieces, every))

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"received {len(self.received)} of {count} deliveries in {timeout} s")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_receiver() -> Receiver:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                trickle = receiver.trickles.popleft() if receiver.trickles else None
                if trickle is None:
                    status = receiver.script.popleft() if receiver.script else 204
                    delay = receiver.holds.popleft() if receiver.holds else receiver.delay
            if trickle is not None:
                self._trickle(trickle)
                return
            if delay:
                time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def _trickle(self, trickle: Trickle) -> None:
            self.close_connection = True
            for number, piece in enumerate(trickle.pieces):
                if number:
                    time.sleep(trickle.every)
                try:
                    self.wfile.write(piece)
                except OSError:  # the sender hung up
                    return

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver
