import pytest
from django.test import RequestFactory, override_settings

from taskapi.core.client_address import client_address


def request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@override_settings(TRUSTED_PROXIES=[])
def test_without_trusted_proxies_forwarded_for_is_ignored():
    assert client_address(request("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


@override_settings(TRUSTED_PROXIES=["10.0.0.1"])
def test_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored():
    assert client_address(request("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_a_trusted_proxy_in_a_cidr_is_believed():
    assert client_address(request("10.1.2.3", "203.0.113.1")) == "203.0.113.1"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_the_rightmost_untrusted_entry_wins_over_what_the_client_prepended():
    forwarded = "1.2.3.4, 203.0.113.1, 10.0.0.5"

    assert client_address(request("10.0.0.9", forwarded)) == "203.0.113.1"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_a_chain_of_only_proxies_falls_back_to_the_peer():
    assert client_address(request("10.0.0.9", "10.0.0.5")) == "10.0.0.9"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
@pytest.mark.parametrize("forwarded", ["", "garbage", "203.0.113.1, not-an-ip"])
def test_a_garbled_forwarded_for_falls_back_to_the_peer(forwarded):
    assert client_address(request("10.0.0.9", forwarded)) == "10.0.0.9"


@override_settings(TRUSTED_PROXIES=["2001:db8::/32"])
def test_ipv6_proxies_work():
    assert client_address(request("2001:db8::1", "2001:db8:ffff::1, 2a00::5")) == "2a00::5"
