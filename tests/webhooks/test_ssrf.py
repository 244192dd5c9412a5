"""The SSRF rules, one row per forbidden address class (IPv4 and IPv6, embedded forms too), as
production applies them (WEBHOOKS_ALLOW_LOOPBACK off)."""

import ipaddress
import socket

import pytest

from taskapi.webhooks import ssrf
from taskapi.webhooks.ssrf import UrlRefused, address_refusal, target_checked

FORBIDDEN = [
    ("127.0.0.1", "a loopback address"),
    ("127.255.255.254", "a loopback address"),
    ("::1", "a loopback address"),
    ("10.1.2.3", "a private address"),
    ("172.16.0.1", "a private address"),
    ("192.168.1.1", "a private address"),
    ("fd00::1", "a private address"),
    ("169.254.169.254", "a link-local address"),  # cloud metadata
    ("fe80::1", "a link-local address"),
    ("224.0.0.1", "a multicast address"),
    ("239.255.255.250", "a multicast address"),
    ("ff02::1", "a multicast address"),
    ("0.0.0.0", "the unspecified address"),  # noqa: S104 (the address under test)
    ("::", "the unspecified address"),
    ("100.64.0.1", "a reserved address"),  # shared address space (carrier-grade NAT)
    ("192.0.2.1", "a private address"),  # documentation
    ("240.0.0.1", "a private address"),  # reserved for future use
    ("255.255.255.255", "a private address"),
    ("2001:db8::1", "a private address"),  # documentation
    ("::ffff:127.0.0.1", "a loopback address"),  # IPv4-mapped
    ("::ffff:10.0.0.1", "a private address"),
    ("::ffff:169.254.169.254", "a link-local address"),
    ("2002:7f00:1::", "a loopback address"),  # 6to4 of 127.0.0.1
    ("2002:a9fe:a9fe::", "a link-local address"),  # 6to4 of 169.254.169.254
    ("64:ff9b::a00:1", "a private address"),  # NAT64 of 10.0.0.1
]
ALLOWED = ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1"]


@pytest.fixture(autouse=True)
def _production_rules(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False


@pytest.mark.parametrize(("address", "reason"), FORBIDDEN)
def test_each_forbidden_address_class_is_refused(address, reason):
    assert address_refusal(ipaddress.ip_address(address), allow_loopback=False) == reason


@pytest.mark.parametrize("address", ALLOWED)
def test_public_unicast_addresses_are_allowed(address):
    assert address_refusal(ipaddress.ip_address(address), allow_loopback=False) is None


@pytest.mark.parametrize(("address", "_reason"), FORBIDDEN)
def test_a_url_naming_a_forbidden_address_is_a_400_on_url(address, _reason):
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(UrlRefused) as refused:
        target_checked(f"https://{host}/hook")
    assert refused.value.extra["errors"][0]["field"] == "url"
    assert refused.value.extra["errors"][0]["code"] == "forbidden_address"


def test_a_name_resolving_to_any_forbidden_address_is_refused(monkeypatch):
    def resolve(host, port, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(ssrf.socket, "getaddrinfo", resolve)
    with pytest.raises(UrlRefused) as refused:
        target_checked("https://receiver.example.com/hook")
    assert refused.value.extra["errors"][0]["code"] == "forbidden_address"


def test_the_checked_address_is_the_one_connected_to(monkeypatch):
    def resolve(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("1.1.1.1", port))]

    monkeypatch.setattr(ssrf.socket, "getaddrinfo", resolve)
    target = target_checked("https://receiver.example.com:8443/hooks/in?x=1")
    assert (target.address, target.host, target.port, target.path) == (
        "1.1.1.1",
        "receiver.example.com",
        8443,
        "/hooks/in?x=1",
    )


def test_a_name_that_does_not_resolve_is_refused():
    with pytest.raises(UrlRefused) as refused:
        target_checked("https://no-such-host.invalid/hook")
    assert refused.value.extra["errors"][0]["code"] == "unresolvable"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://1.1.1.1/hook", "scheme"),
        ("ftp://1.1.1.1/hook", "scheme"),
        ("//1.1.1.1/hook", "scheme"),
        ("https://user:secret@1.1.1.1/hook", "invalid"),
        ("https:///hook", "invalid"),
        ("https://1.1.1.1:99999/hook", "invalid"),
        ("https://1.1.1.1:0/hook", "invalid"),
        ("https://1.1.1.1/a b", "invalid"),
        ("https://1.1.1.1/\x00", "invalid"),
        ("https://[::1/hook", "invalid"),
    ],
)
def test_urls_that_are_not_plain_https_are_refused(url, code):
    with pytest.raises(UrlRefused) as refused:
        target_checked(url)
    assert refused.value.extra["errors"][0]["code"] == code


def test_loopback_over_http_is_allowed_only_with_the_setting(settings):
    with pytest.raises(UrlRefused):
        target_checked("http://127.0.0.1:8080/hook")
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    assert target_checked("http://127.0.0.1:8080/hook").address == "127.0.0.1"
    with pytest.raises(UrlRefused) as refused:
        target_checked("http://10.0.0.1/hook")  # loopback only, never private
    assert refused.value.extra["errors"][0]["code"] == "forbidden_address"
