"""Workers for the Lambda-limits tests: their runs take what the task's data says."""

from __future__ import annotations

import time
from dataclasses import replace

from app.task_registry import get
from workers.contract import TaskOutcome, TaskRun, make_handler

RUN_SECONDS = 1.0


def sleep_as_told(task: TaskRun) -> TaskOutcome:
    time.sleep(task.data["sleep"])
    task.report_progress(100, "slept")
    return TaskOutcome(f"slept {task.data['sleep']} s", {"slept_seconds": task.data["sleep"]})


# Declares runs of up to a second, so a 3 s invocation starts only one of them.
one_second_runs = make_handler(
    replace(get("TASK1"), longest_run_seconds=RUN_SECONDS, mean_run_seconds=None), sleep_as_told
)
