"""Load benchmark of the whole local stack (`python -m app.local`), which it starts itself.

    python scripts/bench_load.py                     # the full run (about 15 minutes)
    python scripts/bench_load.py --sizes 0,2000 --duration 20   # a quick one

It prints:
  - no-op tasks/s created and completed over --duration seconds from --clients
    threads, first paced at --rate tasks/s in all (does the stack keep up?),
    then as fast as the clients can (where does it saturate?), and whether
    any task was lost;
  - end-to-end p50/p95/p99 (created -> completed) and the median of each hop,
    one task at a time on an idle stack, and under that load;
  - the p50 of POST /tasks, GET /tasks?limit=20 and the dashboard's list page
    with each of --sizes tasks (and their timelines) in the table, each as a
    ratio to a second stack kept near empty, measured call by call in between;
  - the stack's RSS (both processes) before, after, and after a minute idle.
Figures, not assertions: the machine decides them. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "bench-key"
NOOP = {"task_type": "TASK1", "data": {"duration_seconds": 0}}
FINAL = ("COMPLETED", "FAILED", "CANCELLED")
HOPS = ("published", "delivered", "started", "completed")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Stack:
    url: str
    process: subprocess.Popen[bytes]

    @property
    def headers(self) -> dict[str, str]:
        return {"x-api-key": API_KEY}

    def rss_mb(self) -> float:
        """Resident memory of the stack: app.local and its emulator process."""
        total = 0
        for pid in [self.process.pid, *_children(self.process.pid)]:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"VmRSS:\s+(\d+) kB", status)
            total += int(match.group(1)) if match else 0
        return total / 1024


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    pids = [int(child) for child in found]
    return pids + [grandchild for child in pids for grandchild in _children(child)]


@contextmanager
def local_stack(data_dir: Path) -> Iterator[Stack]:
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "API_KEY": API_KEY,
        "LOCAL_DATA_DIR": str(data_dir),
        "LOCAL_PRINT_HOPS": "false",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.local"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    stack = Stack(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{stack.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("the local stack did not start")
            time.sleep(0.2)
        yield stack
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def timed(call: Callable[[], httpx.Response], repeat: int) -> float:
    """Median milliseconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return statistics.median(times)


def signed_in(stack: Stack) -> httpx.Client:
    """A client signed in to the dashboard with the local default account."""
    client = httpx.Client(base_url=stack.url, timeout=30)
    page = client.get("/dashboard/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    user, _, password = os.environ.get("DASHBOARD_USERS_PLAIN", "admin:admin").partition(":")
    form = {"csrf_token": token.group(1) if token else "", "next": "", "username": user, "password": password}
    response = client.post("/dashboard/login", data=form)
    if response.status_code != 303:
        raise SystemExit(f"dashboard sign-in failed: {response.status_code}")
    return client


class Pacer:
    """Spaces one client's requests so that ``clients`` of them send ``rate`` a second in all."""

    def __init__(self, rate: float | None, clients: int, number: int) -> None:
        self.interval = clients / rate if rate else 0.0
        self.next_at = time.monotonic() + number * self.interval / clients

    def wait(self) -> None:
        if self.interval:
            time.sleep(max(0.0, self.next_at - time.monotonic()))
            self.next_at += self.interval


def create_many(stack: Stack, count: int, clients: int, rate: float | None = None) -> list[str]:
    """Create ``count`` tasks from ``clients`` threads (``rate`` a second in all if given); their ids."""
    ids: list[str] = []
    lock = threading.Lock()
    remaining = [count]

    def work(number: int) -> None:
        pacer = Pacer(rate, clients, number)
        with httpx.Client(base_url=stack.url, headers=stack.headers, timeout=30) as client:
            while True:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                pacer.wait()
                response = client.post("/tasks", json=NOOP)
                response.raise_for_status()
                with lock:
                    ids.append(response.json()["id"])

    threads = [threading.Thread(target=work, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return ids


def wait_drained(stack: Stack, timeout: float = 600) -> None:
    """Until no task is CREATED or IN_PROGRESS."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=stack.url, headers=stack.headers, timeout=30) as client:
        while time.monotonic() < deadline:
            busy = [client.get("/tasks", params={"status": s, "limit": 1}).json()["tasks"]
                    for s in ("CREATED", "IN_PROGRESS")]  # fmt: skip
            if not any(busy):
                return
            time.sleep(0.5)
    raise SystemExit("tasks were still in flight after the deadline")


def load(stack: Stack, duration: float, clients: int, rate: float | None = None) -> dict[str, object]:
    """Create no-op tasks from ``clients`` threads for ``duration`` seconds; follow them to the end.

    As fast as the clients can, or ``rate`` tasks/s in all, evenly paced.
    """
    ids: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def work(number: int) -> None:
        pacer = Pacer(rate, clients, number)
        with httpx.Client(base_url=stack.url, headers=stack.headers, timeout=30) as client:
            while time.monotonic() < stop_at:
                pacer.wait()
                response = client.post("/tasks", json=NOOP)
                response.raise_for_status()
                with lock:
                    ids.append(response.json()["id"])

    started = time.time()
    threads = [threading.Thread(target=work, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ended = time.time()
    wait_drained(stack)
    timelines = fetch_timelines(stack, ids, clients)
    completed_at = [t["completed"] / 1000 for t in timelines.values() if "completed" in t]
    in_window = [at for at in completed_at if started <= at <= ended]
    return {
        "created": len(ids),
        "created_per_s": len(ids) / (ended - started),
        "completed_in_window_per_s": len(in_window) / (ended - started),
        "completed": len(completed_at),
        "lost": len(ids) - len(completed_at),
        **_summary(timelines),
    }


def fetch_timelines(stack: Stack, ids: list[str], clients: int) -> dict[str, dict[str, float]]:
    """For each task: the time of each hop's first event (epoch ms) and completed's since_created_ms."""
    found: dict[str, dict[str, float]] = {}
    lock = threading.Lock()
    queue = list(ids)

    def work() -> None:
        with httpx.Client(base_url=stack.url, headers=stack.headers, timeout=30) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    task_id = queue.pop()
                events = client.get(f"/tasks/{task_id}/events").json()["events"]
                timeline: dict[str, float] = {}
                for event in events:
                    timeline.setdefault(event["hop"], event["at_ms"])
                    if event["hop"] == "completed":
                        timeline["completed_since"] = event["since_created_ms"]
                with lock:
                    found[task_id] = timeline

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found


def latency(stack: Stack, count: int) -> dict[str, object]:
    """One no-op task at a time on an idle stack: POST -> COMPLETED, as the task's own timeline says."""
    ids = []
    with httpx.Client(base_url=stack.url, headers=stack.headers, timeout=30) as client:
        for _ in range(count):
            task_id = client.post("/tasks", json=NOOP).raise_for_status().json()["id"]
            deadline = time.monotonic() + 30
            while client.get(f"/tasks/{task_id}").json()["status"] not in FINAL:
                if time.monotonic() > deadline:
                    raise SystemExit(f"task {task_id} did not end within 30 s")
                time.sleep(0.005)  # the figure comes from the timeline, not from this polling
            ids.append(task_id)
    timelines = fetch_timelines(stack, ids, 1)
    return _summary(timelines)


def _summary(timelines: dict[str, dict[str, float]]) -> dict[str, object]:
    end_to_end = [t["completed_since"] for t in timelines.values() if "completed_since" in t]
    hop_gaps: dict[str, list[float]] = {hop: [] for hop in HOPS}
    for timeline in timelines.values():
        previous = timeline.get("created")
        for hop in HOPS:
            if hop in timeline and previous is not None:
                hop_gaps[hop].append(timeline[hop] - previous)
                previous = timeline[hop]
    return {
        "p50": percentile(end_to_end, 0.50),
        "p95": percentile(end_to_end, 0.95),
        "p99": percentile(end_to_end, 0.99),
        "hops": {hop: statistics.median(gaps) if gaps else float("nan") for hop, gaps in hop_gaps.items()},
    }


def print_latency(result: dict[str, object]) -> None:
    print(f"  end to end p50 {result['p50']:.0f} ms, p95 {result['p95']:.0f} ms, p99 {result['p99']:.0f} ms")
    hops = result["hops"]
    assert isinstance(hops, dict)
    print("  hop medians: " + ", ".join(f"{hop} +{ms:.0f} ms" for hop, ms in hops.items()))


def costs(stack: Stack, reference: Stack, repeat: int) -> dict[str, tuple[float, float]]:
    """Median ms of each call on ``stack`` and on the near-empty ``reference``, interleaved call by call.

    Interleaving makes the ratio fair on a shared machine: a busy moment
    slows both stacks' calls alike.
    """
    calls: dict[str, list[Callable[[], httpx.Response]]] = {"post": [], "list": [], "dashboard": []}
    clients = []
    for each in (stack, reference):
        api = httpx.Client(base_url=each.url, headers=each.headers, timeout=30)
        dashboard = signed_in(each)
        clients += [api, dashboard]
        calls["post"].append(lambda api=api: api.post("/tasks", json=NOOP))
        calls["list"].append(lambda api=api: api.get("/tasks", params={"limit": 20}))
        calls["dashboard"].append(lambda dashboard=dashboard: dashboard.get("/dashboard"))
    try:
        figures = {}
        for name, (on_stack, on_reference) in calls.items():
            times: tuple[list[float], list[float]] = ([], [])
            for _ in range(repeat):
                for call, kept in ((on_stack, times[0]), (on_reference, times[1])):
                    kept.append(timed(call, 1))
            figures[name] = (statistics.median(times[0]), statistics.median(times[1]))
        return figures
    finally:
        for client in clients:
            client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--sizes", default="0,5000,20000")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--rate", type=float, default=50, help="tasks/s of the paced load phase")
    parser.add_argument("--fill-rate", type=float, default=40, help="tasks/s while filling the table")
    parser.add_argument("--idle", type=float, default=60)
    parser.add_argument("--latency-tasks", type=int, default=50)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # so the stacks it started are stopped too

    with (
        tempfile.TemporaryDirectory() as folder,
        local_stack(Path(folder) / "data") as stack,
        local_stack(Path(folder) / "reference") as reference,
    ):
        load_average = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(
            f"machine: {os.cpu_count()} cores, {platform_summary()}, load average {load_average}", flush=True
        )
        time.sleep(2)  # let start-up settle before the idle reading
        rss_before = stack.rss_mb()
        idle_latency = latency(stack, args.latency_tasks)
        print("Latency: one no-op TASK1 task at a time, on an idle stack,", args.latency_tasks, "tasks")
        print_latency(idle_latency)
        by_size: dict[int, dict[str, tuple[float, float]]] = {}
        in_table = args.latency_tasks
        for size in sizes:
            if size > in_table:
                # At a pace the pipeline keeps up with: a flood's backlog would still be
                # recovering (the reconciler sends again what waits past its threshold)
                # while the costs below are measured.
                print(f"  filling the table to {size} tasks at {args.fill_rate:g}/s", flush=True)
                create_many(stack, size - in_table, args.clients, args.fill_rate)
                wait_drained(stack, timeout=600)
                in_table = size
            wait_drained(reference)
            by_size[size] = costs(stack, reference, args.repeat)
            in_table += args.repeat
            cells = [
                f"{name} p50 {ms:.1f} ms ({ms / base:.2f}x)" for name, (ms, base) in by_size[size].items()
            ]
            print(f"  {size:>6} tasks: " + ", ".join(cells), flush=True)
        # Last, so that the sizes above are what the table held; and they run on the largest table.
        paced = load(stack, args.duration, args.clients, args.rate)
        print_load(paced, args.clients, args.duration, args.rate)
        flood = load(stack, args.duration, args.clients)
        print_load(flood, args.clients, args.duration)
        rss_after = stack.rss_mb()
        time.sleep(args.idle)
        rss_idle = stack.rss_mb()

    print_load(paced, args.clients, args.duration, args.rate)
    print_load(flood, args.clients, args.duration)
    print("\nCost with N tasks in the table: p50 ms, and as a ratio to a second, near-empty stack")
    print("measured call by call in between (so the machine's load weighs on both alike)")
    print(f"  {'tasks':>6}  {'POST /tasks':>16}  {'GET /tasks':>16}  {'dashboard list':>16}")
    for size, figures in by_size.items():
        cells = [f"{ms:7.1f} ({ms / base:4.2f}x)" for ms, base in figures.values()]
        print(f"  {size:>6}  " + "  ".join(f"{cell:>16}" for cell in cells))
    print(f"\nRSS of the stack: {rss_before:.0f} MB before, {rss_after:.0f} MB after, "
          f"{rss_idle:.0f} MB after {args.idle:.0f} s idle")  # fmt: skip
    load_average = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"load average at the end: {load_average}")
    return 0


def print_load(result: dict[str, object], clients: int, duration: float, rate: float | None = None) -> None:
    pace = f"{rate:g} tasks/s in all" if rate else "as fast as they can"
    print(f"\nLoad: no-op TASK1 tasks from {clients} clients for {duration:g} s, {pace}")
    print(f"  created   {result['created_per_s']:.1f} tasks/s ({result['created']} tasks)")
    print(f"  completed {result['completed_in_window_per_s']:.1f} tasks/s within the window; "
          f"{result['completed']} completed in all, {result['lost']} lost", flush=True)  # fmt: skip
    print_latency(result)


def platform_summary() -> str:
    import platform

    return f"{platform.machine()}, Python {platform.python_version()}, {platform.platform(terse=True)}"


if __name__ == "__main__":
    sys.exit(main())
