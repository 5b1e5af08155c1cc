"""Chaos on the local stack: paced load through two kill -9s, then every accepted task is final.

    python scripts/bench_chaos.py [--rate 10] [--seconds 20] [--crash-share 0.2]

Starts `python -m app.local` on a fresh data folder and sends tasks at a steady
rate: mostly TASK1 runs of 0 to 1 s, and a share of FLAKY tasks whose first
attempt crashes (the local-only type), so retries are in flight when the stack
dies. Twice during the load it kills the whole stack (SIGKILL to its process
group: the app and its emulator) and starts it again on the same data. Then it
waits for every accepted task to be final, and prints:

- tasks accepted, and how many ended COMPLETED, FAILED or CANCELLED (none lost);
- the most attempts any task ran, against its type's limit (none ran more);
- the seconds from the last restart's /health to all final;
- the rate it held (accepted tasks a second over the load, final tasks a second until all final).

Figures only, no assertions: the tests (tests/e2e/test_restart*.py) hold the guarantees.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from scripts.bench_load import API_KEY, FINAL, free_port  # noqa: E402 (the project's root is on the path now)

HEALTH_TIMEOUT = 60


class Stack:
    """`python -m app.local` in its own process group, on a data folder that outlives it."""

    def __init__(self, data_dir: Path, port: int):
        self.data_dir, self.port = data_dir, port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start it; the moment /health answers."""
        env = {
            **os.environ,
            "PORT": str(self.port),
            "API_KEY": API_KEY,
            "LOCAL_DATA_DIR": str(self.data_dir),
            "LOCAL_PRINT_HOPS": "false",
            "RETRY_DELAYS": "1,2",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.local"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return time.monotonic()
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise SystemExit("the local stack did not answer /health")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(60)


def send(
    stack: Stack, rate: float, seconds: float, crash_share: float, accepted: list[str], stop: threading.Event
):
    """One task every 1/rate s for ``seconds`` s; a refused or unanswered request (the stack is down) is not
    accepted, and is not sent again."""
    interval, started = 1 / rate, time.monotonic()
    with httpx.Client(headers={"x-api-key": API_KEY}, timeout=5) as client:
        number = 0
        while time.monotonic() - started < seconds and not stop.is_set():
            crash = int((number + 1) * crash_share) > int(number * crash_share)  # spread evenly
            body = (
                {"task_type": "FLAKY", "data": {"crash_attempts": 1}}
                if crash
                else {"task_type": "TASK1", "data": {"duration_seconds": number % 3 / 2}}
            )
            try:
                response = client.post(f"{stack.url}/tasks", json=body)
                if response.status_code == 202:
                    accepted.append(response.json()["id"])
            except httpx.HTTPError:
                pass
            number += 1
            time.sleep(max(0.0, started + number * interval - time.monotonic()))


def final_states(stack: Stack, ids: list[str]) -> dict[str, dict]:
    with httpx.Client(base_url=stack.url, headers={"x-api-key": API_KEY}, timeout=10) as client:
        return {task_id: client.get(f"/tasks/{task_id}").json() for task_id in ids}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10, help="tasks a second sent (default 10)")
    parser.add_argument("--seconds", type=float, default=20, help="how long the load lasts (default 20)")
    parser.add_argument("--crash-share", type=float, default=0.2, help="FLAKY tasks' share (default 0.2)")
    parser.add_argument("--deadline", type=float, default=300, help="seconds allowed to all final")
    args = parser.parse_args()
    from app.task_registry import read_folder

    limits = {name: t.max_attempts for name, t in read_folder(include_local_only=True).items()}
    with tempfile.TemporaryDirectory(prefix="bench-chaos-") as scratch:
        stack = Stack(Path(scratch) / "data", free_port())
        accepted: list[str] = []
        stop = threading.Event()
        try:
            stack.start()
            load_started = time.monotonic()
            sender = threading.Thread(
                target=send, args=(stack, args.rate, args.seconds, args.crash_share, accepted, stop)
            )
            sender.start()
            for share in (1 / 3, 2 / 3):  # two crashes, a third and two thirds into the load
                time.sleep(max(0.0, load_started + share * args.seconds - time.monotonic()))
                stack.kill()
                last_health = stack.start()
            sender.join()
            load_seconds = time.monotonic() - load_started
            deadline = time.monotonic() + args.deadline
            while True:
                states = final_states(stack, accepted)
                if all(state.get("status") in FINAL for state in states.values()):
                    break
                if time.monotonic() > deadline:
                    print(f"not all final after {args.deadline:g} s", file=sys.stderr)
                    return 1
                time.sleep(0.5)
            all_final = time.monotonic()
        finally:
            stop.set()
            stack.stop()
    by_status: dict[str, int] = {}
    worst = max((state.get("attempt", 0), state["task_type"]) for state in states.values())
    over = [s["id"] for s in states.values() if s.get("attempt", 0) > limits.get(s["task_type"], 5)]
    for state in states.values():
        by_status[state["status"]] = by_status.get(state["status"], 0) + 1
    load = f"{args.rate:g} tasks/s for {args.seconds:g} s ({args.crash_share:.0%} crash once)"
    print(f"Chaos: {load}, two kill -9s")
    print(
        f"  accepted {len(accepted)}; final: " + ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
    )
    most = f"{worst[0]} ({worst[1]}, limit {limits.get(worst[1])})"
    print(f"  most attempts of one task: {most}; over its limit: {len(over)}")
    print(f"  all final {all_final - last_health:.1f} s after the last restart answered /health")
    print(f"  held {len(accepted) / load_seconds:.1f} accepted tasks/s over the load, "
          f"{len(accepted) / (all_final - load_started):.1f} final tasks/s until all final")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
