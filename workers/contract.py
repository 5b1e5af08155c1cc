"""The task author's contract: what a task type's module declares, what ``run`` gets, returns and raises.

A task type is one module in ``workers/tasks/``::

    TASK_TYPE = TaskType(name="RESIZE_IMAGE", description="...", longest_run_seconds=30)

    def run(task: TaskRun) -> TaskOutcome:
        ...
        task.report_progress(50, "half way")      # raises TaskCancelled once a cancel is asked for
        ...
        return TaskOutcome("resized to 640 px", {"key": "..."})

    handler = make_handler(TASK_TYPE, run)

- ``run`` gets a TaskRun: the task (``task.data``, its id), the attempt
  number, and whether this attempt resumes one that crashed.
- It returns a TaskOutcome: the sentence people read, and a result (any JSON
  value, at most MAX_RESULT_BYTES as JSON) that programs read.
- It raises TaskFailure for a failure the task's user should read: the task
  ends FAILED with that message and is not run again.
- Any other exception is a crash: the task is run again (a new attempt,
  ``resumed`` true) after a wait, up to the type's ``max_attempts``, then it
  ends FAILED. So ``run`` must be safe to repeat (SQS delivers at least once).
- A cancel asked for while it runs ends it CANCELLED at its next
  ``report_progress`` (or at ``cancel_requested()``); its result is dropped.

Everything else (SQS batches, claims, leases, timelines, metrics) is the
engine's, in ``workers/consumer.py``: no task type needs to read it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.domain.task import Task
from app.domain.task_types import TaskType


class TaskFailure(Exception):
    """The task ran and failed for a reason its user should read; not run again."""


class TaskCancelled(Exception):
    """The task's cancel was asked for: raised out of ``run`` (by a progress report, or by the task
    itself after ``TaskRun.cancel_requested()``); the task ends CANCELLED, its result dropped."""


@dataclass(frozen=True)
class TaskOutcome:
    """What ``run`` returns: the sentence for people, and the result for programs."""

    message: str
    # Any JSON value; stored with the task (``result``) when it completes.
    result: Any = None


@dataclass
class TaskRun:
    """What ``run`` receives.

    ``report_progress(percent, message)`` records progress (written at most
    once a second); it raises TaskCancelled once the task's cancel was asked
    for. ``cancel_requested()`` asks, for a task that reports no progress for a while.
    """

    task: Task
    attempt: int
    resumed: bool
    report_progress: Callable[[int, str], None] = field(default=lambda percent, message="": None)
    cancel_requested: Callable[[], bool] = field(default=lambda: False)

    @property
    def data(self) -> dict[str, Any]:
        return self.task.data


Run = Callable[[TaskRun], TaskOutcome]


def make_handler(task_type: TaskType | str, run: Run) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of ``run``'s worker (the engine's, built when the module is loaded)."""
    from workers import consumer

    return consumer.make_handler(task_type, run)


__all__ = ["Run", "TaskCancelled", "TaskFailure", "TaskOutcome", "TaskRun", "TaskType", "make_handler"]
