"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")

# Tests run the app as the local runtime does (app/local sets LOCAL_MODE=true):
# Settings() has the local defaults. A test of a deployed stage says so with
# local_mode=False, as serverless.yml's LOCAL_MODE: 'false' does in AWS.
os.environ.setdefault("LOCAL_MODE", "true")
# A crashed attempt's task runs again after a second, not after RETRY_DELAYS' 5 s, 30 s, 2 min.
os.environ.setdefault("RETRY_DELAYS", "1")


def run_in_root(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a command from the project's root, its output kept as text; it must succeed."""
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(
    condition: Callable[[], T], timeout: float = 10.0, interval: float = 0.05, what: str = "condition"
) -> T:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last value: {last!r}")


@dataclass
class LiveStack:
    """``python -m app.local`` (what ``make run`` starts) in a process group of its own."""

    base_url: str
    api_key: str
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.api_key}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, stop_signal: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Stop it as a user would (SIGTERM, or SIGINT for Ctrl-C); its exit code."""
        assert self.process is not None
        self.process.send_signal(stop_signal)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"app.local did not stop:\n{self.log()[-3000:]}") from None

    def kill(self) -> None:
        """kill -9 of the whole stack, emulator included: a crash."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def start_stack(folder: Path, **settings: str) -> LiveStack:
    """A local stack on a free port, its data in ``folder``/data and its log in ``folder``/app.log."""
    import httpx

    port = free_port()
    api_key = "e2e-test-key"
    env = {
        **os.environ,
        "PORT": str(port),
        "API_KEY": api_key,
        "LOCAL_DATA_DIR": str(folder / "data"),
        "PYTHONUNBUFFERED": "1",
        # Failed deliveries come back after 2 s instead of serverless.yml's 180 s.
        "LOCAL_VISIBILITY_TIMEOUT_SECONDS": "2",
        # Failed webhook attempts come back after 1 s instead of 5 s, 5 min, 30 min...
        "WEBHOOK_RETRY_DELAYS": "1,1,1,1,1,1,1",
        **settings,
    }
    log_path = folder / "app.log"
    with log_path.open("a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.local"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack = LiveStack(f"http://127.0.0.1:{port}", api_key, log_path, process)

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"app.local exited early:\n{stack.log()}")
        try:
            return httpx.get(f"{stack.base_url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(healthy, timeout=60, interval=0.2, what="the local stack to answer /health")
    except BaseException:
        if process.poll() is None:
            stack.kill()
        raise
    return stack


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """The local stack the e2e tests share, stopped with SIGTERM at the end."""
    stack = start_stack(tmp_path_factory.mktemp("live-stack"))
    try:
        yield stack
    finally:
        code = stack.stop()
        assert code == 0, f"app.local exited with {code} on SIGTERM:\n{stack.log()[-3000:]}"
