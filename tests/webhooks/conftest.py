import signal

import pytest

from tests.support.receiver import start_receiver


@pytest.fixture
def receiver():
    server = start_receiver()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _loopback_receivers(settings):
    # The tests' receivers listen on loopback over http; production refuses both (test_ssrf).
    settings.WEBHOOKS_ALLOW_LOOPBACK = True


def _signal_handlers() -> dict[signal.Signals, object]:
    # Not SIGALRM: pytest-timeout sets it around each test and clears it early when one fails.
    return {
        signum: signal.getsignal(signum)
        for signum in signal.valid_signals()
        if signum != signal.SIGALRM
    }


@pytest.fixture(autouse=True)
def _signal_handlers_unchanged():
    """These tests run the worker in this process, and db_worker's loop installs handlers for
    SIGTERM, SIGINT and SIGQUIT: one left behind turns the SIGTERM that stops the test run into
    a SystemExit inside whichever test runs then. Fail the test that leaves one changed, and put
    the handlers back so that the next test starts as this one did."""
    before = _signal_handlers()
    yield
    changed = sorted(
        signum for signum, handler in _signal_handlers().items() if handler != before[signum]
    )
    for signum in changed:
        signal.signal(signum, before[signum])
    assert not changed, f"the test left signal handlers changed: {[s.name for s in changed]}"
