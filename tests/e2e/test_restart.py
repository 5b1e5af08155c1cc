"""`make run` keeps its tasks across a restart, after Ctrl-C and after a crash.

Each test starts its own stack on one data folder, twice. The reconciler
runs every second here (LOCAL_SCHEDULE_SECONDS) and steps in after 2 s
(RECONCILE_AFTER_SECONDS): SQS messages are not kept, so what was queued or
running when the stack went down is found again from the tasks themselves.
A task that was running waits for its attempt's lease (the worker's 30 s
timeout) before it is resumed, as in AWS.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveStack, start_stack, wait_until

pytestmark = pytest.mark.e2e
QUICK_RECOVERY = {"LOCAL_SCHEDULE_SECONDS": "1", "RECONCILE_AFTER_SECONDS": "2", "LOCAL_PRINT_HOPS": "false"}
FINAL = {"COMPLETED", "FAILED", "CANCELLED"}


def create(stack: LiveStack, data: dict, count: int) -> list[str]:
    with httpx.Client(base_url=stack.base_url, headers=stack.headers, timeout=10) as client:
        ids = []
        for _ in range(count):
            response = client.post("/tasks", json={"task_type": "TASK1", "data": data})
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
        return ids


def states(stack: LiveStack, ids: list[str]) -> dict[str, str]:
    with httpx.Client(base_url=stack.base_url, headers=stack.headers, timeout=10) as client:
        return {task_id: client.get(f"/tasks/{task_id}").json().get("status") for task_id in ids}


def all_completed(stack: LiveStack, ids: list[str]):
    found = states(stack, ids)
    return found if set(found.values()) == {"COMPLETED"} else None


def test_after_ctrl_c_and_a_restart_every_task_is_there_and_in_flight_ones_finish(tmp_path):
    stack = start_stack(tmp_path, **QUICK_RECOVERY)
    try:
        finished = create(stack, {"duration_seconds": 0}, 3)
        wait_until(lambda: all_completed(stack, finished), timeout=30, what="the quick tasks")
        running = create(stack, {"duration_seconds": 4}, 2)
        wait_until(
            lambda: "IN_PROGRESS" in states(stack, running).values(), timeout=30, what="a running task"
        )
    finally:
        assert stack.stop(signal.SIGINT) == 0, stack.log()[-3000:]
    assert "stopped." in stack.log()

    stack = start_stack(tmp_path, **QUICK_RECOVERY)
    try:
        assert set(states(stack, finished).values()) == {"COMPLETED"}
        wait_until(lambda: all_completed(stack, running), timeout=120, interval=0.5, what="in-flight tasks")
    finally:
        stack.stop()


def test_after_a_kill_9_no_accepted_task_is_lost_or_stuck(tmp_path):
    stack = start_stack(tmp_path, **QUICK_RECOVERY)
    # More than the workers take at once: some run, the rest wait in the queue.
    accepted = create(stack, {"duration_seconds": 2}, 8)
    wait_until(lambda: "IN_PROGRESS" in states(stack, accepted).values(), timeout=30, what="a running task")
    stack.kill()

    stack = start_stack(tmp_path, **QUICK_RECOVERY)
    try:
        before = states(stack, accepted)
        assert None not in before.values(), before  # every 202 was kept
        wait_until(
            lambda: all_completed(stack, accepted), timeout=120, interval=0.5, what="every task to finish"
        )
        with httpx.Client(base_url=stack.base_url, headers=stack.headers) as client:
            events = client.get(f"/tasks/{accepted[-1]}/events").json()["events"]
        assert "redispatched" in [event["hop"] for event in events]
    finally:
        stack.stop()


def test_the_stack_stops_saying_why_when_its_emulator_dies(tmp_path):
    stack = start_stack(tmp_path)
    try:
        pid = stack.process.pid
        (emulator_pid,) = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()  # its one child
        os.kill(int(emulator_pid), signal.SIGKILL)
        assert stack.process.wait(timeout=30) == 1
    finally:
        if stack.process.poll() is None:
            stack.kill()
    assert "the AWS emulator stopped (exit code -9): stopping." in stack.log()
