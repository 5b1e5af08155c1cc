"""Resolving a callback's host: every address it has, for the callback rules to check."""

from __future__ import annotations

import ipaddress
import socket

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
