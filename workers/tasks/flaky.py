"""FLAKY (local only): crashes its first data.crash_attempts attempts, then completes or fails.

A demonstration of retries for `make run` and the tests: the crash is an
ordinary exception, so the engine runs the task again after a wait, up to its
attempt limit, then ends it FAILED. Declared ``local_only``: never packaged,
and a deployed api refuses it.

data.crash_attempts  how many attempts crash first (default 1)
data.fail_message    given: after the crashes it ends FAILED with this message
"""

from __future__ import annotations

from workers.contract import TaskFailure, TaskOutcome, TaskRun, TaskType, make_handler

TASK_TYPE = TaskType(
    name="FLAKY",
    description="Crashes its first data.crash_attempts attempts (default 1), then completes, "
    "or fails with data.fail_message (local only).",
    longest_run_seconds=1,
    sample_data={"crash_attempts": 1},
    local_only=True,
)


class DeliberateCrash(Exception):
    """The crash data.crash_attempts asked for."""


def run(task: TaskRun) -> TaskOutcome:
    crash_attempts = task.data.get("crash_attempts", 1)
    if not isinstance(crash_attempts, int) or isinstance(crash_attempts, bool):
        raise TaskFailure("data.crash_attempts must be a whole number")
    if task.attempt <= crash_attempts:
        raise DeliberateCrash(f"crash requested for attempt {task.attempt} (data.crash_attempts)")
    if task.data.get("fail_message"):
        raise TaskFailure(str(task.data["fail_message"]))
    return TaskOutcome(f"completed on attempt {task.attempt}", {"attempts": task.attempt})


handler = make_handler(TASK_TYPE, run)
