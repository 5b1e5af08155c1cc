"""Screenshots of the dashboard for the README, taken from the running local stack.

    python scripts/screenshot.py docs/dashboard.png            # starts `python -m app.local` itself
    python scripts/screenshot.py out.png --url http://127.0.0.1:8000   # or uses one already running

It creates a handful of tasks through the JSON API (some finish, one fails,
one is still running), signs in to the dashboard in headless Chromium with
the local default account (or DASHBOARD_USERS) and saves three pictures: the
task list at 1280 px (the name given), a task's page (``-task`` added to the
name) and the list on a 390 px phone (``-phone``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.chromium import CHROMIUM_FLAGS, DEBIAN_CHROMIUM  # noqa: E402 (needs ROOT on the path)

# Which of DEMO_TASKS fails: its page is the second picture.
FAILING = 4
DEMO_TASKS = [
    ("TASK2", {"text": "the quick brown fox jumps over the lazy dog"}),
    ("TASK1", {"duration_seconds": 1}),
    ("TASK2", {"words": "no text field"}),
    ("TASK1", {"duration_seconds": 0}),
    ("TASK1", {"fail": True, "fail_message": "upstream returned 503"}),
    ("TASK2", {"text": "hello world"}),
    ("TASK1", {"duration_seconds": 20}),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def local_stack():
    """``python -m app.local`` on a free port; yields its URL and API key; stopped with SIGTERM."""
    port, key = free_port(), "screenshot-key"
    # Its own empty tables, so the pictures show only the demo tasks.
    data_dir = tempfile.mkdtemp(prefix="screenshot-data-")
    env = {
        **os.environ,
        "PORT": str(port),
        "API_KEY": key,
        "PYTHONUNBUFFERED": "1",
        "LOCAL_DATA_DIR": data_dir,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"app.local exited: {process.stderr.read().decode(errors='replace')}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the local stack did not start within 60 s")
            time.sleep(0.2)
        yield url, key
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        shutil.rmtree(data_dir, ignore_errors=True)


def create_demo_tasks(url: str, key: str) -> list[str]:
    headers = {"x-api-key": key}
    ids = []
    for task_type, data in DEMO_TASKS:
        response = httpx.post(f"{url}/tasks", json={"task_type": task_type, "data": data}, headers=headers)
        response.raise_for_status()
        ids.append(response.json()["id"])
    # Everything but the long one settles; that one stays IN_PROGRESS for the picture.
    deadline = time.monotonic() + 30
    for task_id in ids[:-1]:
        while httpx.get(f"{url}/tasks/{task_id}", headers=headers).json()["status"] not in (
            "COMPLETED",
            "FAILED",
        ):
            if time.monotonic() > deadline:
                raise SystemExit(f"task {task_id} did not finish")
            time.sleep(0.1)
    return ids


def sibling(output: Path, suffix: str) -> Path:
    return output.with_name(f"{output.stem}-{suffix}{output.suffix}")


def take(url: str, output: Path, ids: list[str]) -> list[Path]:
    from playwright.sync_api import sync_playwright

    user, _, password = os.environ.get("DASHBOARD_USERS", "admin:admin").split(",")[0].strip().partition(":")
    launch: dict = {"headless": True}
    if DEBIAN_CHROMIUM.exists():
        launch.update(executable_path=str(DEBIAN_CHROMIUM), args=CHROMIUM_FLAGS)
    output.parent.mkdir(parents=True, exist_ok=True)
    written = [output, sibling(output, "task"), sibling(output, "phone"), sibling(output, "stats")]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch)
        context = browser.new_context(viewport={"width": 1280, "height": 860}, device_scale_factor=1)
        page = context.new_page()
        page.goto(f"{url}/dashboard/login")
        page.get_by_label("User name").fill(user)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        # The running task has reported progress: its row shows the bar under its badge.
        page.wait_for_selector("tr[data-status='IN_PROGRESS'] progress.mini")
        page.locator("details.create-card").evaluate("details => details.removeAttribute('open')")
        page.screenshot(path=str(written[0]))

        # The failed task's page: its attempts and its timeline.
        page.goto(f"{url}/dashboard/tasks/{ids[FAILING]}")
        page.wait_for_selector("#timeline-events tr[data-hop='failed']")
        page.screenshot(path=str(written[1]), full_page=True)

        # The stats, once the changes function has counted the demo tasks (a few seconds).
        page.goto(f"{url}/dashboard/stats")
        for _ in range(30):
            if page.locator("#stats-TASK1-hour .completed-total").inner_text() != "0":
                break
            page.wait_for_timeout(500)
            page.reload()
        page.screenshot(path=str(written[3]), full_page=True)

        phone = browser.new_context(
            storage_state=context.storage_state(),
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
        ).new_page()
        phone.goto(f"{url}/dashboard")
        phone.wait_for_selector("tr[data-status='IN_PROGRESS']")
        phone.locator("details.create-card").evaluate("details => details.removeAttribute('open')")
        # From the bulk actions down: the rows as cards (the filters are above).
        phone.locator(".table-tools").evaluate("tools => tools.scrollIntoView({block: 'start'})")
        phone.screenshot(path=str(written[2]))
        browser.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("output", type=Path)
    parser.add_argument("--url", help="a running stack (default: start one)")
    parser.add_argument("--api-key", default=os.environ.get("API_KEY", "local-dev-key"))
    args = parser.parse_args()
    if args.url:
        written = take(args.url, args.output, create_demo_tasks(args.url, args.api_key))
    else:
        with local_stack() as (url, key):
            written = take(url, args.output, create_demo_tasks(url, key))
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
