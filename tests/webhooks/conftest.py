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
