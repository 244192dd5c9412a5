"""send(): one POST to a real loopback receiver, bounded by its deadline."""

import time

from taskapi.webhooks import sending
from taskapi.webhooks.ssrf import target_checked


def test_an_answer_completed_after_the_deadline_is_no_answer_even_if_the_cut_runs_late(
    receiver, settings, monkeypatch
):
    settings.WEBHOOKS_CONNECT_TIMEOUT = 0.5
    settings.WEBHOOKS_TIMEOUT = 1.0
    cut_on_time = sending._cut

    def cut_late(connection, cut):
        time.sleep(1.0)  # the watchdog's thread, scheduled a second late by a busy machine
        cut_on_time(connection, cut)

    monkeypatch.setattr(sending, "_cut", cut_late)
    # One piece every 0.2 s: the answer is complete at about 1.4 s.
    head = [b"HTTP/1.1 200 OK\r\n", b"Content-Length: 5\r\n", b"\r\n"]
    receiver.trickle_next(*head, *[b"x"] * 5, every=0.2)

    answer = sending.send(target=target_checked(receiver.url), headers={}, body=b"{}")

    assert answer == sending.Answer(None, "timed out after 1 s", None)
