"""The worker's liveness probe: `python -m taskapi.webhooks.alive` exits 0 when the worker's
heartbeat file was touched within MAX_AGE seconds, else 1. It needs no database and no Django
set-up, so a probe never waits on what it is not checking."""

import os
import sys
import time

MAX_AGE = 60.0
# A private /tmp in the systemd unit (PrivateTmp) and an emptyDir in the pod.
DEFAULT_FILE = "/tmp/taskapi-webhooks.alive"  # noqa: S108  # nosec B108


def heartbeat_age(path: str) -> float | None:
    try:
        return time.time() - os.stat(path).st_mtime
    except OSError:
        return None


def main() -> int:
    path = os.environ.get("WEBHOOKS_HEARTBEAT_FILE", DEFAULT_FILE)
    age = heartbeat_age(path)
    if age is None or age > MAX_AGE:
        print(f"webhooks worker: no heartbeat in {path} for {MAX_AGE:g} s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
