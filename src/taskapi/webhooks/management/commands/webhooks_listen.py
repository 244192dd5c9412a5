"""`manage.py webhooks_listen --port 9000 [--secret whsec_…]`: a local receiver for trying
webhooks out (README, "Webhooks"). It prints each delivery as one JSON line, verified with the
Standard Webhooks library when given the secret, and answers 204 (or 400 if it does not verify).
Loopback only: it is a tool for a developer's machine, not a production receiver."""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Command(BaseCommand):
    help = "Receive webhooks on 127.0.0.1 and print them (verified with --secret)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=9000)
        parser.add_argument("--secret", help="the webhook's whsec_ secret, to verify signatures")
        parser.add_argument("--count", type=int, help="exit after this many deliveries")

    def handle(
        self, *args: Any, port: int, secret: str | None, count: int | None, **_: Any
    ) -> None:
        verifier = Webhook(secret) if secret else None
        out = self.stdout
        received = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                nonlocal received
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                verified: bool | None = None
                if verifier is not None:
                    try:
                        verifier.verify(body, headers)
                        verified = True
                    except WebhookVerificationError:
                        verified = False
                line = {"webhook-id": headers.get("webhook-id"), "verified": verified}
                out.write(json.dumps({**line, "event": json.loads(body or b"null")}))
                self.send_response(400 if verified is False else 204)
                self.end_headers()
                received += 1

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        out.write(f"Listening on http://127.0.0.1:{server.server_address[1]}/")
        try:
            while count is None or received < count:
                server.handle_request()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
