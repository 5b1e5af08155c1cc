"""POSTing a webhook to the one address that was checked.

The connection goes to the IP address the callback rules approved, never to
the host name again (DNS could answer differently the second time: DNS
rebinding); the host name is still the request's Host and, over https, the
name TLS checks the certificate against. Redirects are not followed.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from functools import lru_cache

from app.domain.callbacks import Address, CallbackTarget
from app.domain.webhooks import Attempt

# What is read of a receiver's answer: its status is what counts.
MAX_ANSWER_BYTES = 4096
USER_AGENT = "async-app-webhooks/1"


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: Address, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self.address), self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: Address, timeout: float):
        super().__init__(host, port, timeout=timeout, context=_tls())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((str(self.address), self.port), self.timeout)
        self.sock = _tls().wrap_socket(sock, server_hostname=self.host)


def post(
    target: CallbackTarget, address: Address, headers: dict[str, str], body: bytes, timeout: float
) -> Attempt:
    """One POST of ``body`` to ``target`` at ``address``: delivered on a 2xx, with the status either way."""
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target.host, target.port, address, timeout)
    try:
        connection.request(
            "POST",
            target.target,
            body=body,
            headers={**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT},
        )
        response = connection.getresponse()
        response.read(MAX_ANSWER_BYTES)
    except (OSError, http.client.HTTPException) as exc:
        return Attempt(False, None, f"no answer: {type(exc).__name__}: {exc}"[:300])
    finally:
        connection.close()
    delivered = 200 <= response.status < 300
    return Attempt(delivered, response.status, f"HTTP {response.status}")
