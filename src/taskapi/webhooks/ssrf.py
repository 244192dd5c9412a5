"""Where a webhook may point: the rules against server-side request forgery.

In production a receiver's URL is https, names no credentials, and every address its host
resolves to is a public unicast address: not loopback, private, shared (100.64/10), link-local
(cloud metadata at 169.254.169.254 among them), multicast, unspecified, reserved or
documentation, in IPv4 or IPv6, nor an IPv6 form that embeds such an IPv4 address (mapped,
6to4, Teredo, NAT64). The URL is checked when it is saved and again at every delivery (DNS can
change), and the delivery connects to the address that was checked, not to a name resolved
again. WEBHOOKS_ALLOW_LOOPBACK allows http and loopback receivers, for tests and local runs.
"""

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as ResolveTimeout
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from taskapi.core.errors import FieldsInvalid

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhooks-dns")


class UrlRefused(FieldsInvalid):
    field = "url"


@dataclass(frozen=True)
class Target:
    """A checked URL: connect to `address`, speak to `host` (SNI, certificate, Host header)."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    address: str


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_refusal(address: IPAddress, *, allow_loopback: bool) -> str | None:
    """Why a delivery may not connect to `address` (None: it may)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_refusal(embedded, allow_loopback=allow_loopback)
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_private:
        return "a private address"
    if not address.is_global:  # shared, reserved, documentation, benchmarking ...
        return "a reserved address"
    return None


def _resolve(host: str, port: int) -> list[IPAddress]:
    future = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=settings.WEBHOOKS_CONNECT_TIMEOUT)
    except (OSError, UnicodeError, ResolveTimeout):
        raise UrlRefused(f"The host {host} does not resolve.", code="unresolvable") from None
    addresses = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # an IPv6 scope id is not part of the address
        addresses.append(ipaddress.ip_address(text))
    if not addresses:
        raise UrlRefused(f"The host {host} does not resolve.", code="unresolvable")
    return addresses


def _parts(url: str, *, allow_loopback: bool) -> tuple[str, str, int, str]:
    if any(ord(char) < 33 or ord(char) == 127 for char in url):
        raise UrlRefused("The URL must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlRefused("Enter an absolute http(s) URL.") from None
    schemes = ("https", "http") if allow_loopback else ("https",)
    if parts.scheme not in schemes:
        raise UrlRefused("The URL must use https.", code="scheme")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("The URL must not contain credentials.")
    host = parts.hostname
    if not host:
        raise UrlRefused("Enter an absolute http(s) URL.")
    try:
        host.encode("idna")
    except UnicodeError:
        raise UrlRefused("The URL's host name is invalid.") from None
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    if port == 0:
        raise UrlRefused("The URL's port is invalid.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port, path


def target_checked(url: str) -> Target:
    """The URL's target, if every address its host resolves to is allowed; else a 400 on `url`.

    Called when a webhook is saved and before every delivery attempt.
    """
    allow_loopback = settings.WEBHOOKS_ALLOW_LOOPBACK
    scheme, host, port, path = _parts(url, allow_loopback=allow_loopback)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = _resolve(host, port)
    for address in addresses:
        refusal = address_refusal(address, allow_loopback=allow_loopback)
        if refusal is not None:
            raise UrlRefused(
                f"The URL's host resolves to {refusal}, which webhooks may not reach.",
                code="forbidden_address",
            )
    return Target(scheme=scheme, host=host, port=port, path=path, address=str(addresses[0]))
