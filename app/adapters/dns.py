"""Resolving a callback's host: every address it has, for the callback rules to check."""

from __future__ import annotations

import ipaddress
import socket
import threading

from app.domain.callbacks import Address


def resolve(host: str, port: int) -> list[Address]:
    """The host's addresses (none when it does not resolve)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    addresses: list[Address] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def resolve_within(host: str, port: int, seconds: float) -> list[Address]:
    """``resolve``, given up after ``seconds``: TimeoutError then.

    getaddrinfo takes no timeout (the resolver's own can add up to tens of
    seconds), so it runs on a thread of its own that is left to finish alone.
    """
    found: list[list[Address]] = []
    worker = threading.Thread(target=lambda: found.append(resolve(host, port)), name="resolve", daemon=True)
    worker.start()
    worker.join(max(0.0, seconds))
    if not found:
        raise TimeoutError(f"resolving {host} took more than {seconds:g} s")
    return found[0]
