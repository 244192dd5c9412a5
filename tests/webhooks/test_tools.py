"""The worker's liveness probe and the local receiver of the README's walkthrough."""

import json
import os
import socket
import threading
import time
from datetime import UTC, datetime

import requests

from taskapi.webhooks import alive, listen
from taskapi.webhooks.delivery import signed_headers
from taskapi.webhooks.models import new_secret


def test_the_probe_passes_on_a_fresh_heartbeat_and_fails_on_a_stale_or_missing_one(
    tmp_path, monkeypatch
):
    heartbeat = tmp_path / "alive"
    monkeypatch.setenv("WEBHOOKS_HEARTBEAT_FILE", str(heartbeat))
    assert alive.main() == 1  # no heartbeat yet

    heartbeat.touch()
    assert alive.main() == 0

    old = time.time() - alive.MAX_AGE - 1
    os.utime(heartbeat, (old, old))
    assert alive.main() == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_local_receiver_prints_each_delivery_and_verifies_its_signature(capsys):
    secret, port = new_secret(), _free_port()
    server = threading.Thread(
        target=listen.serve, kwargs={"port": port, "secret": secret, "count": 2}, daemon=True
    )
    server.start()
    time.sleep(0.3)
    body = json.dumps({"id": "evt_1", "type": "task.created", "data": {"id": 1}})
    headers = signed_headers(secret=secret, event_id="evt_1", body=body, now=datetime.now(UTC))

    good = requests.post(f"http://127.0.0.1:{port}/", data=body, headers=headers, timeout=5)
    forged = requests.post(
        f"http://127.0.0.1:{port}/",
        data=body.replace("task.created", "task.deleted"),
        headers=headers,
        timeout=5,
    )
    server.join(5)

    assert (good.status_code, forged.status_code) == (204, 400)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()[1:]]
    assert [(line["webhook-id"], line["verified"]) for line in lines] == [
        ("evt_1", True),
        ("evt_1", False),
    ]
