"""FLAKY (local only): crashes its first data.crash_attempts attempts, then completes.

A demonstration of retries for `make run` and the tests: the crash is an
ordinary exception, so the engine runs the task again after a wait, up to its
attempt limit, then ends it FAILED. Declared ``local_only``: never packaged,
and a deployed api refuses it.
"""

from __future__ import annotations

from workers.contract import TaskOutcome, TaskRun, TaskType, make_handler

TASK_TYPE = TaskType(
    name="FLAKY",
    description="Crashes its first data.crash_attempts attempts (default 1), then completes (local only).",
    longest_run_seconds=1,
    sample_data={"crash_attempts": 1},
    local_only=True,
)


class DeliberateCrash(Exception):
    """The crash data.crash_attempts asked for."""


def run(task: TaskRun) -> TaskOutcome:
    crash_attempts = task.data.get("crash_attempts", 1)
    if (
        isinstance(crash_attempts, int)
        and not isinstance(crash_attempts, bool)
        and task.attempt <= crash_attempts
    ):
        raise DeliberateCrash(f"crash requested for attempt {task.attempt} (data.crash_attempts)")
    return TaskOutcome(f"completed on attempt {task.attempt}", {"attempts": task.attempt})


handler = make_handler(TASK_TYPE, run)
