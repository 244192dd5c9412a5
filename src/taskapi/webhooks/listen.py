"""A local receiver for trying webhooks out: it prints each delivery as one JSON line, verified
with the Standard Webhooks library when given the webhook's secret, and answers 204 (400 when the
signature does not verify).

`python -m taskapi.webhooks.listen --port 9000 --secret whsec_…` (README.md, "Webhooks"). Loopback
only, and no Django set-up: a tool for a developer's machine, not a production receiver.
"""

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def serve(*, port: int, secret: str | None, count: int | None) -> None:
    verifier = Webhook(secret) if secret else None
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
            event = json.loads(body or b"null")
            line = {"webhook-id": headers.get("webhook-id"), "verified": verified, "event": event}
            print(json.dumps(line), flush=True)
            self.send_response(400 if verified is False else 204)
            self.end_headers()
            received += 1

        def log_message(self, *args: Any) -> None:
            pass

    # One request at a time: handle_request() returns only once the delivery is counted, so
    # --count exits right after the last one (a threading server counted it later, or never).
    server = HTTPServer(("127.0.0.1", port), Handler)
    print(f"Listening on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    try:
        while count is None or received < count:
            server.handle_request()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m taskapi.webhooks.listen",
        # The first paragraph of the module's docstring, whole: what the tool does.
        description=" ".join(__doc__.split("\n\n", 1)[0].split()),
        epilog="Loopback only: a tool for a developer's machine, not a production receiver.",
    )
    parser.add_argument(
        "--port", type=int, default=9000, help="loopback port to listen on (default: 9000)"
    )
    parser.add_argument("--secret", help="the webhook's whsec_ secret, to verify signatures")
    parser.add_argument("--count", type=int, help="exit after this many deliveries")
    options = parser.parse_args(argv)
    serve(port=options.port, secret=options.secret, count=options.count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
