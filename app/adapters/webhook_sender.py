"""POSTing a webhook to the one address that was checked, within one total deadline.

The connection goes to the IP address the callback rules approved, never to
the host name again (DNS could answer differently the second time: DNS
rebinding); the host name is still the request's Host and, over https, the
name TLS checks the certificate against. Redirects are not followed.

A socket's timeout bounds each read, not the exchange: a receiver sending one
byte at a time would never trip it. Every socket operation here gets what is
left of the attempt's deadline instead, so connect, TLS, sending and reading
together end by it, whatever the receiver does.
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import time
from functools import lru_cache
from typing import Any

from app.domain.callbacks import Address, CallbackTarget
from app.domain.webhooks import Attempt

# What is read of a receiver's answer: its status is what counts.
MAX_ANSWER_BYTES = 4096
USER_AGENT = "async-app-webhooks/1"


class DeadlinePassed(TimeoutError):
    """The attempt's whole time is up."""


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


class _Deadline:
    """A connected socket whose every operation may take only what is left until ``deadline``."""

    def __init__(self, sock: socket.socket, deadline: float):
        self._sock, self._deadline = sock, deadline

    def left(self) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise DeadlinePassed("the attempt's deadline passed")
        self._sock.settimeout(left)
        return left

    def sendall(self, data: Any) -> None:
        self.left()
        self._sock.sendall(data)

    def recv_into(self, buffer: Any) -> int:
        self.left()
        return self._sock.recv_into(buffer)

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(_Reader(self))

    def close(self) -> None:
        self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _Reader(io.RawIOBase):
    def __init__(self, sock: _Deadline):
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._sock.recv_into(buffer)


def _connect(address: Address, port: int, deadline: float, server_hostname: str | None) -> _Deadline:
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlinePassed("the attempt's deadline passed before connecting")
    sock = socket.create_connection((str(address), port), left)
    try:
        if server_hostname is not None:
            # CPython bounds the whole TLS handshake by the socket's timeout, set to what is left.
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            sock = _tls().wrap_socket(sock, server_hostname=server_hostname)
    except BaseException:
        sock.close()
        raise
    return _Deadline(sock, deadline)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: Address, deadline: float):
        super().__init__(host, port)
        self.address, self.deadline = address, deadline

    def connect(self) -> None:
        self.sock = _connect(self.address, self.port, self.deadline, None)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: Address, deadline: float):
        super().__init__(host, port, context=_tls())
        self.address, self.deadline = address, deadline

    def connect(self) -> None:
        self.sock = _connect(self.address, self.port, self.deadline, self.host)


def post(
    target: CallbackTarget, address: Address, headers: dict[str, str], body: bytes, timeout: float
) -> Attempt:
    """One POST of ``body`` to ``target`` at ``address``, over within ``timeout`` seconds in all.

    Delivered on a 2xx, with the status either way; no answer in time is a failed attempt.
    """
    started = time.monotonic()
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target.host, target.port, address, started + timeout)
    try:
        connection.request(
            "POST",
            target.target,
            body=body,
            headers={**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT},
        )
        response = connection.getresponse()
        response.read(MAX_ANSWER_BYTES)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        took = time.monotonic() - started
        if isinstance(exc, TimeoutError) or took >= timeout:
            return Attempt(False, None, f"no answer within {timeout:g} s")
        return Attempt(False, None, f"no answer: {type(exc).__name__}: {exc}"[:300])
    finally:
        connection.close()
    delivered = 200 <= response.status < 300
    return Attempt(delivered, response.status, f"HTTP {response.status}")
