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


@dataclass(frozen=True)
class LiveStack:
    base_url: str
    api_key: str
    log_path: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.api_key}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """``python -m app.local`` (what ``make run`` starts) on a free port, stopped with SIGTERM."""
    import httpx

    port = free_port()
    api_key = "e2e-test-key"
    folder = tmp_path_factory.mktemp("live-stack")
    log_path = folder / "app.log"
    env = {
        **os.environ,
        "PORT": str(port),
        "API_KEY": api_key,
        "LOCAL_DATA_DIR": str(folder / "data"),
        "PYTHONUNBUFFERED": "1",
        # Failed deliveries come back after 2 s instead of serverless.yml's 180 s.
        "LOCAL_VISIBILITY_TIMEOUT_SECONDS": "2",
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.local"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    stack = LiveStack(f"http://127.0.0.1:{port}", api_key, log_path)

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"app.local exited early:\n{stack.log()}")
        try:
            return httpx.get(f"{stack.base_url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(healthy, timeout=60, interval=0.2, what="the local stack to answer /health")
        yield stack
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError(f"app.local did not stop on SIGTERM:\n{stack.log()[-3000:]}") from None
        assert code == 0, f"app.local exited with {code} on SIGTERM:\n{stack.log()[-3000:]}"
