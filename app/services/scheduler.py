"""Scheduled tasks: a SCHEDULED task becomes CREATED when its run_at comes, then flows as usual.

The scheduler runs every minute (locally every second or so) and reads the
sparse ``by_due`` index for tasks due up to ``lookahead`` seconds from now;
it waits for each one's run_at within its own run, so a task starts within
seconds of it, not up to a minute late. Each move is a write conditional on
the task still being SCHEDULED: a task cancelled meanwhile stays CANCELLED,
and two overlapping runs move a task once. The move's stream record is what
the publisher sends to the workers (serverless.yml's filter pattern).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from app import observability
from app.domain.errors import InvalidTransition
from app.domain.task import Task, TaskStatus
from app.domain.timeline import Hop, TaskEvent, event_of, utc_text
from app.services import timeline
from app.services.ports import Clock, TaskRepository

SOURCE = "scheduler"
# Tasks moved per run at most; the rest wait for the next run.
MAX_TASKS_PER_RUN = 1000


class DueTask(Protocol):
    task_id: str
    run_at: int


class ScheduledTasks(TaskRepository, Protocol):
    def due(self, until: int, limit: int = MAX_TASKS_PER_RUN) -> list[DueTask]: ...


def run_due(
    store: ScheduledTasks,
    *,
    lookahead_seconds: float = 0,
    seconds_left: Callable[[], float] = lambda: float("inf"),
    clock: Clock = time.time,
    sleep: Callable[[float], object] = time.sleep,
) -> dict[str, int]:
    """Move every task due by now (and, waiting for each, those due within the lookahead) to CREATED."""
    outcomes: dict[str, int] = {}
    due = store.due(int(clock() + lookahead_seconds), MAX_TASKS_PER_RUN)
    found = store.get_many([entry.task_id for entry in due])
    events: list[TaskEvent] = []
    for entry in due:
        wait = entry.run_at - clock()
        if wait > 0:
            # Don't wait past the invocation's end: the next run takes the rest.
            if wait >= seconds_left() - 1:
                break
            timeline.record(store, *events)
            events = []
            sleep(wait)
        task = found.get(entry.task_id)
        outcome = "gone" if task is None else _start(store, task, clock(), events)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    timeline.record(store, *events)
    if outcomes:
        observability.get_logger().info("scheduled tasks moved on", extra={"outcomes": outcomes})
    return outcomes


def _start(store: TaskRepository, task: Task, now: float, events: list[TaskEvent]) -> str:
    if task.status is not TaskStatus.SCHEDULED or task.run_at is None:
        return "not_scheduled"
    late_ms = max(0, int(now * 1000) - task.run_at * 1000)
    message = f"due at {utc_text(task.run_at)}; started {late_ms} ms after"
    try:
        store.replace_if(task.moved_to(TaskStatus.CREATED, message, now), expected=task)
    except InvalidTransition:
        return "moved_meanwhile"  # cancelled, or another run moved it
    events.append(event_of(task, Hop.DUE, now, SOURCE, status=TaskStatus.CREATED.value, message=message))
    observability.emit_metrics(task.task_type, ScheduleDelay=("Milliseconds", late_ms))
    return "started"
