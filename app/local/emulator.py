"""The embedded AWS emulator, in a process of its own.

moto's server application on loopback (served by waitress), with the patches that keep it honest at scale
(app/local/moto_patches), DynamoDB tables kept on disk when a data folder is
given (app/local/persistence.py) and TTL deletions (app/local/ttl.py). A
process of its own: it gets the second core, and the handlers' process never
imports moto.

``start_emulator()`` starts it and waits until it answers; the child stops
with its parent (SIGTERM on the parent's death, Linux), and ignores Ctrl-C,
which the parent handles by stopping its pollers first and then the child.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TTL_SWEEP_SECONDS = 60.0
# Each long poll (an SQS receive waits up to a second) holds a thread: room for
# every poller (a queue's maximumConcurrency each), the handlers' calls and a test suite's clients.
SERVER_THREADS = 128
SERVER_CONNECTIONS = 1000
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 60.0
_PR_SET_PDEATHSIG = 1


@dataclass
class Emulator:
    """A running emulator process and its endpoint URL."""

    process: subprocess.Popen[bytes]
    endpoint: str
    data_dir: Path | None

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Stop it cleanly: journals folded into snapshots, the data folder released."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_emulator(
    data_dir: Path | str | None = None, *, ttl_sweep_seconds: float = DEFAULT_TTL_SWEEP_SECONDS
) -> Emulator:
    """Start the emulator on a free loopback port; keep tables in ``data_dir`` if given."""
    read_end, write_end = os.pipe()
    command = [
        sys.executable,
        "-m",
        "app.local.emulator",
        "--ready-fd",
        str(write_end),
        "--parent-pid",
        str(os.getpid()),
        "--ttl-sweep-seconds",
        str(ttl_sweep_seconds),
    ]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(command, cwd=root, pass_fds=(write_end,), stdin=subprocess.DEVNULL)
    os.close(write_end)
    try:
        port = _read_port(read_end, process)
    finally:
        os.close(read_end)
    return Emulator(process, f"http://127.0.0.1:{port}", Path(data_dir) if data_dir else None)


def _read_port(read_end: int, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    received = b""
    while not received.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            process.kill()
            raise RuntimeError("the AWS emulator did not start in time")
        readable, _, _ = select.select([read_end], [], [], min(remaining, 0.5))
        if readable:
            chunk = os.read(read_end, 64)
            if not chunk:
                process.wait()
                raise RuntimeError(f"the AWS emulator exited with {process.returncode} before it was ready")
            received += chunk
    return int(received.decode().strip())


# --- the child process ------------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    """Ask Linux for SIGTERM when the parent dies, so a killed `make run` leaves no emulator."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return  # not Linux: the parent's stop() is the only way out
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


def serve(ready_fd: int, data_dir: Path | None, ttl_sweep_seconds: float, parent: int) -> None:
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent)

    import waitress
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from app.local import moto_patches
    from app.local.persistence import DataDirInUse, TableStore
    from app.local.ttl import TtlSweeper

    moto_patches.apply()
    # The server would log its queue of waiting requests; the runtime reports hops instead.
    logging.getLogger("waitress").setLevel(logging.ERROR)
    try:
        store = TableStore(data_dir).start() if data_dir else None
    except DataDirInUse as exc:
        print(f"  {exc}: stop it first, or set LOCAL_DATA_DIR to another folder", file=sys.stderr)
        sys.exit(2)
    sweeper = TtlSweeper(ttl_sweep_seconds).start()
    # moto's app served by waitress rather than moto's werkzeug server: werkzeug
    # closes the connection after every request (a new TCP connection, and a new
    # thread, per AWS call); waitress keeps them open: a third less CPU per call.
    server = waitress.create_server(
        DomainDispatcherApplication(create_backend_app),
        host="127.0.0.1",
        port=0,
        threads=SERVER_THREADS,
        connection_limit=SERVER_CONNECTIONS,
        clear_untrusted_proxy_headers=True,
        ident="async-app-emulator",
    )
    serving = threading.Thread(target=server.run, name="emulator-server", daemon=True)
    serving.start()
    os.write(ready_fd, f"{server.effective_port}\n".encode())
    os.close(ready_fd)
    stopping.wait()
    server.close()
    sweeper.stop()
    if store is not None:
        store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description="The local AWS emulator (started by the local runtime)")
    parser.add_argument("--ready-fd", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, required=True)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--ttl-sweep-seconds", type=float, default=DEFAULT_TTL_SWEEP_SECONDS)
    args = parser.parse_args()
    serve(args.ready_fd, args.data_dir, args.ttl_sweep_seconds, args.parent_pid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
