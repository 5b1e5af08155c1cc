"""Use cases of the dashboard beyond app/services/tasks.py. Dependencies are parameters; no AWS here."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from app.domain import rules
from app.domain.errors import InvalidTransition, TaskNotFound
from app.domain.listing import TaskPage, TaskQuery
from app.domain.task import Task, TaskStatus
from app.domain.timeline import TaskEvent, TimelineStep, steps
from app.services import tasks
from app.services.ports import Clock, TaskRepository

# Most ids one request may refresh or retry: a page's worth, as listing allows.
MAX_IDS_PER_REQUEST = 100

# A finished task's last event is written just after the task itself (and may
# be lost: events are best effort); its page follows it this much longer, at
# most, for its timeline to catch up.
TIMELINE_GRACE_SECONDS = 10


@dataclass(frozen=True)
class StatusCount:
    status: TaskStatus
    count: int
    # True when counting stopped at the counter's cap: there are at least ``count``.
    capped: bool = False


class StatusCounter(Protocol):
    def by_status(self, task_type: str | None = None) -> list[StatusCount]: ...


@dataclass(frozen=True)
class Overview:
    page: TaskPage
    counts: list[StatusCount]


def overview(
    store: TaskRepository, counter: StatusCounter, query: TaskQuery, page_token: str | None = None
) -> Overview:
    """A page of tasks, and how many there are in each status (of the chosen type)."""
    return Overview(tasks.list_tasks(store, query, page_token), counter.by_status(query.task_type))


def find_task(store: TaskRepository, pasted: str) -> Task:
    """The task whose id was pasted, spaces and quotes around it ignored."""
    task_id = pasted.strip().strip("\"'").strip()
    if not task_id:
        raise TaskNotFound("(empty)")
    return tasks.get_task(store, task_id)


def refresh(store: TaskRepository, task_ids: Iterable[str]) -> dict[str, Task | None]:
    """The current state of each task; None for one that no longer exists (expired)."""
    wanted = list(dict.fromkeys(task_ids))[:MAX_IDS_PER_REQUEST]
    # Anything but a task id names no task: it is never sent to the store.
    found = store.get_many([task_id for task_id in wanted if rules.TASK_ID.match(task_id)])
    return {task_id: found.get(task_id) for task_id in wanted}


@dataclass(frozen=True)
class TaskDetail:
    task: Task
    timeline: list[TimelineStep]
    # Whether the task's page should ask again: something may still change.
    following: bool


def task_detail(store: TaskRepository, task_id: str, clock: Clock = time.time) -> TaskDetail:
    """A task with its timeline, and whether its page should keep following it."""
    task = tasks.get_task(store, task_id)
    events = store.events(task_id)
    return TaskDetail(task, steps(events), following=still_changing(task, events, clock()))


def still_changing(task: Task, events: list[TaskEvent], now: float) -> bool:
    """In flight, or finished so recently that its timeline has not caught up with its status yet."""
    if not task.status.is_terminal:
        return True
    stated = [event for event in events if event.status]
    if stated and max(stated, key=lambda event: event.at_ms).status == task.status.value:
        return False
    return now - (task.updated_time or 0) < TIMELINE_GRACE_SECONDS


@dataclass(frozen=True)
class Retried:
    original_id: str
    retry: Task


@dataclass
class RetryOutcome:
    retried: list[Retried] = field(default_factory=list)
    # Task id -> why it was not retried (not FAILED, or gone).
    refused: dict[str, str] = field(default_factory=dict)


def retry_many(store: TaskRepository, task_ids: Iterable[str], *, default_ttl_seconds: int) -> RetryOutcome:
    """Retry each FAILED task; the others are reported, not retried. A store outage stops the batch."""
    outcome = RetryOutcome()
    for task_id in list(dict.fromkeys(task_ids))[:MAX_IDS_PER_REQUEST]:
        try:
            retry = tasks.retry_task(store, task_id, default_ttl_seconds=default_ttl_seconds)
        except (InvalidTransition, TaskNotFound) as exc:
            outcome.refused[task_id] = str(exc)
        else:
            outcome.retried.append(Retried(task_id, retry))
    return outcome
