"""Cancelling a task: what a cancel request does, depending on where the task is.

- SCHEDULED or CREATED: no worker holds it; it becomes CANCELLED at once, and
  a worker that gets its message later finds it final and leaves it.
- IN_PROGRESS: a worker holds it; the request is noted on the task
  (``cancel_requested``, who asked) and the task becomes CANCELLED at the
  worker's next write (a progress report or its end), its result dropped.
  If the worker is gone, recovery ends it CANCELLED (app/domain/recovery.py).
- COMPLETED, FAILED or CANCELLED: too late; refused.
"""

from __future__ import annotations

import enum

from app.domain.errors import InvalidTransition
from app.domain.task import Task, TaskStatus
from app.domain.timeline import Hop, TaskEvent, event_of


class CancelAction(enum.Enum):
    CANCEL_NOW = "cancel_now"
    REQUEST = "request"
    ALREADY_REQUESTED = "already_requested"


def decide_cancel(task: Task) -> CancelAction:
    """What a cancel request does to ``task``; InvalidTransition for a final one."""
    if task.status.is_terminal:
        raise InvalidTransition(task.id, task.status.value, f"{TaskStatus.CANCELLED.value} (it has ended)")
    if task.status is TaskStatus.IN_PROGRESS:
        return CancelAction.ALREADY_REQUESTED if task.cancel_requested else CancelAction.REQUEST
    return CancelAction.CANCEL_NOW


def cancelled_message(requested_by: str) -> str:
    return f"cancelled by {requested_by}"


def cancelled(task: Task, now: float, source: str, by: str | None = None) -> tuple[Task, TaskEvent]:
    """``task`` ended CANCELLED (its result dropped), and the timeline event saying who asked.

    ``by`` defaults to whoever asked while it ran (``cancel_requested``), else ``source``.
    """
    who = by or task.cancel_requested or source
    message = cancelled_message(who)
    ended = task.moved_to(
        TaskStatus.CANCELLED, message, now, lease_expires=0, result=None, cancel_requested=who
    )
    event = event_of(
        task, Hop.CANCELLED, now, source, status=TaskStatus.CANCELLED.value, attempt=task.attempt or None,
        message=message,
    )  # fmt: skip
    return ended, event
