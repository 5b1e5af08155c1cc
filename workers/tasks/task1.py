"""TASK1: waits a while, reporting progress, then completes, or fails when asked to.

data.duration_seconds  how long it runs (0-20, default 2)
data.fail              true makes it end FAILED ...
data.fail_message      ... with this status_msg
Its result: {"slept_seconds": n}. A cancel request stops it at its next progress write (one a second).
"""

from __future__ import annotations

import math
import time

from workers.contract import TaskFailure, TaskOutcome, TaskRun, TaskType, make_handler

MAX_DURATION_SECONDS = 20

TASK_TYPE = TaskType(
    name="TASK1",
    description="Waits data.duration_seconds (default 2), then completes. "
    "data.fail=true makes it fail with data.fail_message.",
    # Its longest wait (MAX_DURATION_SECONDS), and a second for its progress writes.
    longest_run_seconds=21,
    # Its default run (data.duration_seconds) is 2 s: 5 tasks/s needs 10 concurrent runs.
    mean_run_seconds=2,
    target_tasks_per_second=5,
    sample_data={"duration_seconds": 1},
    # Its failure message, as asked for, finds it (its status message would too, once it failed).
    searchable=("fail_message",),
)


def run(task: TaskRun) -> TaskOutcome:
    duration = task.data.get("duration_seconds", 2)
    if isinstance(duration, bool) or not isinstance(duration, int | float):
        raise TaskFailure("data.duration_seconds must be a number")
    if not 0 <= duration <= MAX_DURATION_SECONDS:
        raise TaskFailure(f"data.duration_seconds must be between 0 and {MAX_DURATION_SECONDS}")
    if task.data.get("fail"):
        raise TaskFailure(str(task.data.get("fail_message") or "failed as requested (data.fail)"))
    steps = math.ceil(duration)  # one progress report a second; none for a task that takes no time
    for step in range(1, steps + 1):
        time.sleep(duration / steps)
        task.report_progress(step * 100 // steps, f"{step} of {steps} s")
    return TaskOutcome(f"done in {duration} s", {"slept_seconds": duration})


handler = make_handler(TASK_TYPE, run)
