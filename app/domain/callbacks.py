"""Where a task's webhook may go: the callback_url rules.

A callback is a request the service makes on a caller's behalf, so it must
not reach anything a caller could not reach: only https, to hosts whose every
address is public. Private, loopback, link-local (the cloud metadata service
at 169.254.169.254 and fd00:ec2::254 among them), shared, reserved and
multicast addresses are refused, and an IPv6 address that carries an IPv4
one (NAT64, SIIT, IPv4-compatible or -mapped, 6to4, Teredo) is judged by the
IPv4 address it carries. In stage ``local`` a laptop's receiver may
listen on loopback, over http or https. The host is resolved when the task is
created and again before each delivery, and the delivery connects to the
address it checked (DNS rebinding can't swap in another one).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.domain.errors import InvalidTaskInput

MAX_URL_CHARS = 2048
LOCAL_HOSTNAMES = frozenset({"localhost"})

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class CallbackRefused(InvalidTaskInput):
    """A callback_url the service won't call."""


@dataclass(frozen=True)
class CallbackTarget:
    url: str
    scheme: str
    host: str
    port: int
    # Path and query, as sent in the request line.
    target: str


def parse(url: str, *, local: bool) -> CallbackTarget:
    """The URL's parts, or CallbackRefused saying which rule it breaks (addresses are checked apart)."""
    if len(url) > MAX_URL_CHARS:
        raise CallbackRefused(f"callback_url is longer than {MAX_URL_CHARS} characters")
    if not url.isascii() or any(char.isspace() or ord(char) < 32 for char in url):
        raise CallbackRefused("callback_url must be ASCII with no spaces (percent-encode the rest)")
    parts = urlsplit(url)
    allowed = ("https", "http") if local else ("https",)
    if parts.scheme not in allowed:
        raise CallbackRefused(
            "callback_url must be https" + (" (or http to loopback, in stage local)" if local else "")
        )
    if "@" in parts.netloc:
        raise CallbackRefused("callback_url must not carry credentials (user:password@)")
    if parts.fragment:
        raise CallbackRefused("callback_url must not have a #fragment (it is never sent)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise CallbackRefused("callback_url has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise CallbackRefused(f"callback_url has an invalid port: {exc}") from exc
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    parsed = CallbackTarget(url, parts.scheme, host, port, target)
    if parsed.scheme == "http" and not _names_loopback(host):
        raise CallbackRefused("callback_url may be http only to loopback (127.0.0.1, ::1, localhost)")
    written = literal(host)
    if written is not None:
        check_addresses(parsed, [written], local=local)
    return parsed


def literal(host: str) -> Address | None:
    """The IP address a URL names instead of a host name, if it does."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _names_loopback(host: str) -> bool:
    written = literal(host)
    return host.lower() in LOCAL_HOSTNAMES if written is None else _unwrapped(written).is_loopback


def _unwrapped(address: Address) -> Address:
    """An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 address it maps."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


# Refused whatever the Python version says: its tables changed between 3.11 and 3.13
# (3.11 calls 192.0.0.8 and 2002::/16 global), and the rules must not.
_NOT_PUBLIC_V4 = tuple(ipaddress.ip_network(block) for block in ("192.0.0.0/24",))
_NOT_PUBLIC_V6 = tuple(
    ipaddress.ip_network(block)
    for block in (
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215): its embedding depends on the local prefix length
        "2001::/23",  # IETF protocol assignments (Teredo, 2001::/32, is judged by what it embeds)
        "2002::/16",  # 6to4, judged by what it embeds before this
        "3fff::/20",  # documentation (RFC 9637), newer than 3.11's tables
        "5f00::/16",  # SRv6 SIDs (RFC 9602), newer than 3.11's tables
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIIT = ipaddress.ip_network("::ffff:0:0:0/96")  # IPv4-translated, ::ffff:0:a.b.c.d
_COMPATIBLE = ipaddress.ip_network("::/96")  # IPv4-compatible, ::a.b.c.d (:: and ::1 among them)
_TEREDO = ipaddress.ip_network("2001::/32")


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address] | None:
    """The IPv4 addresses an IPv6 address carries (NAT64, SIIT, IPv4-compatible or -mapped, 6to4, Teredo).

    A packet to such an address may be delivered to the IPv4 address it
    carries, so that address is what the address is judged by.
    """
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address in _NAT64 or address in _SIIT or address in _COMPATIBLE:
        return [low32]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address in _TEREDO and address.teredo is not None:
        return list(address.teredo)  # its server and its (unobfuscated) client
    return None


def is_public(address: Address) -> bool:
    """Reachable on the internet: not private, loopback, link-local, shared, reserved or multicast.

    An IPv6 address that carries an IPv4 address is judged by that address.
    The verdict is the same on every supported Python.
    """
    address = _unwrapped(address)
    if isinstance(address, ipaddress.IPv6Address):
        embedded = embedded_ipv4(address)
        if embedded is not None:
            return all(is_public(inner) for inner in embedded)
        if any(address in block for block in _NOT_PUBLIC_V6):
            return False
    elif any(address in block for block in _NOT_PUBLIC_V4):
        return False
    return address.is_global and not address.is_multicast


def check_addresses(target: CallbackTarget, addresses: Iterable[Address], *, local: bool) -> None:
    """Every address the host resolves to must be one the service may call."""
    found = [_unwrapped(address) for address in addresses]
    if not found:
        raise CallbackRefused(f"callback_url's host {target.host} does not resolve")
    for address in found:
        if not (is_public(address) or (local and address.is_loopback)):
            raise CallbackRefused(
                f"callback_url's host {target.host} resolves to {address}, a private, loopback, "
                "link-local or reserved address; webhooks go to public addresses only"
            )
    if target.scheme == "http" and not all(address.is_loopback for address in found):
        raise CallbackRefused("callback_url may be http only to loopback (127.0.0.1, ::1, localhost)")
