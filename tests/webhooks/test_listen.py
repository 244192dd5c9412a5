"""The local receiver of the README's walkthrough, run as a newcomer runs it."""

import json
import subprocess
import time
from datetime import UTC, datetime

import requests

from taskapi.webhooks.delivery import signed_headers
from taskapi.webhooks.models import new_secret
from tests.support.servers import BIN, REPO, free_port

LISTEN = [str(BIN / "python"), "-m", "taskapi.webhooks.listen"]


def test_help_names_the_command_and_describes_the_receiver_in_whole_sentences():
    result = subprocess.run(
        [*LISTEN, "--help"], cwd=REPO, capture_output=True, text=True, timeout=30, check=True
    )

    usage, description = result.stdout.split("\n\n")[:2]
    assert usage.startswith("usage: python -m taskapi.webhooks.listen ")
    described = " ".join(description.split())
    assert described.endswith("(400 when the signature does not verify).")
    assert "default: 9000" in result.stdout


def test_with_count_it_exits_right_after_the_last_delivery():
    secret, port = new_secret(), free_port()
    receiver = subprocess.Popen(
        [*LISTEN, "--port", str(port), "--secret", secret, "--count", "1"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert receiver.stdout is not None
        assert receiver.stdout.readline().startswith(f"Listening on http://127.0.0.1:{port}/")
        body = json.dumps({"id": "evt_1", "type": "task.created", "data": {"id": 1}})
        headers = signed_headers(secret=secret, event_id="evt_1", body=body, now=datetime.now(UTC))
        started = time.monotonic()

        answer = requests.post(f"http://127.0.0.1:{port}/", data=body, headers=headers, timeout=5)
        exit_code = receiver.wait(timeout=10)

        assert (answer.status_code, exit_code) == (204, 0)
        assert time.monotonic() - started < 5
        assert json.loads(receiver.stdout.readline())["verified"] is True
    finally:
        if receiver.poll() is None:
            receiver.kill()
            receiver.wait(5)
