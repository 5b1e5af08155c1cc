"""A webhook receiver on loopback that answers one byte at a time: bounded, it stops itself."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# A 200 whose headers never end.
ANSWER = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 60_000


@dataclass
class SlowReceiver:
    url: str = ""
    port: int = 0
    connections: int = 0
    # Bytes of the answer sent, over all connections.
    dripped: int = 0
    stop: threading.Event = field(default_factory=threading.Event)


@contextmanager
def slow_receiver(
    interval: float = 0.1, lifetime: float = 20.0, tls: ssl.SSLContext | None = None
) -> Iterator[SlowReceiver]:
    """Accepts, reads the request's head, then sends its 200 a byte every ``interval`` s (a whole answer
    takes far longer than any deadline under test), until the client goes or ``lifetime`` s have passed.
    With ``tls``, over TLS (the handshake at its normal pace)."""
    receiver = SlowReceiver()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    receiver.port = listener.getsockname()[1]
    receiver.url = f"http://127.0.0.1:{receiver.port}/hooks/slow"
    ends = time.monotonic() + lifetime

    def drip(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(1)
            try:
                if tls is not None:
                    conn = tls.wrap_socket(conn, server_side=True)
                conn.recv(65536)
                for byte in ANSWER:
                    if receiver.stop.is_set() or time.monotonic() > ends:
                        return
                    conn.sendall(bytes([byte]))
                    receiver.dripped += 1
                    receiver.stop.wait(interval)
            except OSError:
                return  # the client hung up: what a deadline does

    def serve() -> None:
        workers = []
        while not receiver.stop.is_set() and time.monotonic() < ends:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            receiver.connections += 1
            worker = threading.Thread(target=drip, args=(conn,), daemon=True)
            worker.start()
            workers.append(worker)
        for worker in workers:
            worker.join(2)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.stop.set()
        thread.join(5)
        listener.close()
