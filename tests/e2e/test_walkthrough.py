"""The README's curl walkthrough (and docs/api.md's webhook receiver), against `python -m app.local` (what
`make run` starts)."""

import time

import httpx
import pytest

from tests.conftest import wait_until

pytestmark = pytest.mark.e2e


def status_of(stack, location: str) -> dict:
    return httpx.get(location, headers=stack.headers, timeout=5).json()


def finished(stack, location: str):
    task = status_of(stack, location)
    return task if task["status"] in ("COMPLETED", "FAILED") else None


def post(stack, body: dict) -> httpx.Response:
    response = httpx.post(f"{stack.base_url}/tasks", json=body, headers=stack.headers, timeout=5)
    assert response.status_code == 202, response.text
    return response


def test_task1_goes_created_in_progress_completed(live_stack):
    response = post(
        live_stack,
        {"task_type": "TASK1", "data": {"duration_seconds": 1}, "ttl": str(int(time.time()) + 600)},
    )
    task_id, location = response.json()["id"], response.headers["location"]
    assert location == f"{live_stack.base_url}/tasks/{task_id}"

    listed = httpx.get(f"{live_stack.base_url}/tasks", headers=live_stack.headers).json()
    assert task_id in [task["id"] for task in listed["tasks"]]

    seen = {status_of(live_stack, location)["status"]}
    wait_until(
        lambda: seen.add(status_of(live_stack, location)["status"]) or "IN_PROGRESS" in seen, timeout=15
    )
    done = wait_until(lambda: finished(live_stack, location), timeout=15, what="TASK1 to finish")
    assert done["status"] == "COMPLETED" and done["status_msg"] == "done in 1 s"
    assert done["updated_time"] >= done["created_time"]


def test_failing_task2_ends_failed_with_a_reason(live_stack):
    location = post(live_stack, {"task_type": "TASK2", "data": {"words": "none"}}).headers["location"]
    done = wait_until(lambda: finished(live_stack, location), timeout=15, what="TASK2 to finish")
    assert (done["status"], done["status_msg"]) == ("FAILED", "data.text must be a string")


def test_task2_counts_words(live_stack):
    location = post(live_stack, {"task_type": "TASK2", "data": {"text": "to be or not"}}).headers["location"]
    done = wait_until(lambda: finished(live_stack, location), timeout=15, what="TASK2 to finish")
    assert (done["status"], done["status_msg"]) == ("COMPLETED", "counted 4 words")


def test_a_crashed_attempt_is_retried_and_resumed(live_stack):
    body = {"task_type": "FLAKY", "data": {"crash_attempts": 1}}
    location = post(live_stack, body).headers["location"]
    done = wait_until(lambda: finished(live_stack, location), timeout=30, what="the retry to finish")
    assert (done["status"], done["status_msg"]) == ("COMPLETED", "completed on attempt 2")


def test_a_task_that_always_crashes_ends_failed_through_the_dlq(live_stack):
    body = {"task_type": "FLAKY", "data": {"crash_attempts": 99}}
    location = post(live_stack, body).headers["location"]
    done = wait_until(lambda: finished(live_stack, location), timeout=45, what="the DLQ handler to fail it")
    assert done["status"] == "FAILED"
    assert done["status_msg"].startswith("gave up after 5 attempt(s)")


def test_console_shows_each_hop(live_stack):
    task_id = post(live_stack, {"task_type": "TASK1", "data": {"duration_seconds": 1}}).json()["id"]
    location = f"{live_stack.base_url}/tasks/{task_id}"
    wait_until(lambda: finished(live_stack, location), timeout=15)

    def hops():
        lines = [line for line in live_stack.log().splitlines() if f"task {task_id[:8]}" in line]
        return lines if any(" completed " in line for line in lines) else None

    lines = wait_until(hops, timeout=5, what="hop lines in the console")
    # Hops print as they are written; two hops can be written out of order
    # (publisher and worker run concurrently), so order them by their time.
    hop_names = [line.split()[3] for line in sorted(lines)]
    # On a loaded machine the 1 s run can outlast the 2 s visibility timeout: a
    # second delivery then finds the task busy and prints a "delivered" of its own.
    first_of_each = list(dict.fromkeys(hop_names))
    assert first_of_each == ["created", "published", "delivered", "started", "progress", "completed"], lines
    assert all(" ms " in line for line in lines)


def test_the_same_idempotency_key_answers_the_same_without_a_second_task(live_stack):
    body = {"task_type": "TASK1", "data": {"foo": "bar"}, "ttl": str(int(time.time()) + 86400)}
    headers = {**live_stack.headers, "Idempotency-Key": f"order-{time.time_ns()}"}
    first = httpx.post(f"{live_stack.base_url}/tasks", json=body, headers=headers, timeout=5)
    again = httpx.post(f"{live_stack.base_url}/tasks", json=body, headers=headers, timeout=5)
    assert first.status_code == again.status_code == 202 and first.headers["retry-after"] == "1"
    assert (again.json(), again.headers["location"]) == (first.json(), first.headers["location"])
    assert again.headers["idempotent-replayed"] == "true"
    changed = httpx.post(
        f"{live_stack.base_url}/tasks", json={**body, "data": {"foo": "baz"}}, headers=headers, timeout=5
    )
    assert (changed.status_code, changed.json()["error"]) == (422, "idempotency_key_reused")
    done = wait_until(lambda: finished(live_stack, first.headers["location"]), timeout=15, what="TASK1")
    assert done["result"] == {"slept_seconds": 2}


def test_cancel_run_at_and_resend_as_the_walkthrough_shows(live_stack):
    running = post(live_stack, {"task_type": "TASK1", "data": {"duration_seconds": 5}}).headers["location"]
    wait_until(lambda: status_of(live_stack, running)["status"] == "IN_PROGRESS", timeout=15)
    asked = httpx.post(f"{running}/cancel", headers=live_stack.headers, timeout=5)
    assert asked.status_code == 202 and asked.json()["cancel_requested"].startswith("api key ")
    done = wait_until(lambda: finished_or_cancelled(live_stack, running), timeout=15, what="the cancel")
    assert (done["status"], done["result"]) == ("CANCELLED", None)

    later = post(
        live_stack, {"task_type": "TASK2", "data": {"text": "good morning"}, "run_at": int(time.time()) + 60}
    )
    task_id = later.json()["id"]
    scheduled = httpx.get(
        f"{live_stack.base_url}/tasks", params={"status": "SCHEDULED"}, headers=live_stack.headers
    ).json()
    assert task_id in [task["id"] for task in scheduled["tasks"]]
    no_webhook = httpx.post(f"{later.headers['location']}/webhook/resend", headers=live_stack.headers)
    assert (no_webhook.status_code, no_webhook.json()["error"]) == (409, "no_webhook")


def finished_or_cancelled(stack, location: str):
    task = status_of(stack, location)
    return task if task["status"] in ("COMPLETED", "FAILED", "CANCELLED") else None


def test_the_readmes_webhook_receiver_verifies_what_the_service_sends(live_stack, tmp_path):
    """The receiver example, taken from docs/api.md as it is, run against make run's webhooks."""
    import re
    import subprocess
    import sys
    import threading

    from tests.conftest import ROOT, free_port

    api_doc = (ROOT / "docs" / "api.md").read_text()
    (code,) = re.findall(r"```python\n(# webhook_receiver\.py.*?)```", api_doc, re.DOTALL)
    (tmp_path / "webhook_receiver.py").write_text(code)
    port = free_port()
    secret = (live_stack.log_path.parent / "data" / "webhook-secret").read_text().strip()
    receiver = subprocess.Popen(
        [sys.executable, "webhook_receiver.py"],
        cwd=tmp_path,
        env={"WEBHOOK_SECRET": secret, "PORT": str(port), "PATH": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = {
            "task_type": "TASK2",
            "data": {"text": "call me"},
            "callback_url": f"http://127.0.0.1:{port}/hook",
        }
        task_id = post(live_stack, body).json()["id"]
        # The receiver prints one line per verified webhook; read with a deadline.
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(receiver.stdout.readline()), daemon=True)
        reader.start()
        reader.join(30)
        assert lines, "no webhook reached the receiver within 30 s"
        assert lines[0].split() == [f"msg_{task_id}", task_id, "COMPLETED", "{'words':", "2}"], lines
    finally:
        receiver.kill()
        receiver.wait(5)
