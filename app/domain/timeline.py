"""A task's history: one event per hop, kept beside the task, never inside it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from app.domain.task import Task


class Hop(enum.StrEnum):
    CREATED = "created"
    PUBLISHED = "published"
    DELIVERED = "delivered"
    STARTED = "started"
    RESUMED = "resumed"
    PROGRESS = "progress"
    CRASHED = "crashed"
    COMPLETED = "completed"
    FAILED = "failed"
    STATUS_CHANGED = "status_changed"
    RETRIED = "retried"
    DEAD_LETTERED = "dead_lettered"
    REDISPATCHED = "redispatched"


@dataclass(frozen=True)
class TaskEvent:
    task_id: str
    hop: Hop
    at_ms: int
    # Milliseconds since the task was created, fixed when the event is written.
    since_created_ms: int
    source: str
    # Epoch seconds: events expire with their task (DynamoDB TTL).
    expires: int = 0
    status: str | None = None
    attempt: int | None = None
    progress: int | None = None
    message: str = ""

    def to_public(self) -> dict[str, Any]:
        return {
            "hop": self.hop.value,
            "at_ms": self.at_ms,
            "since_created_ms": self.since_created_ms,
            "source": self.source,
            "status": self.status,
            "attempt": self.attempt,
            "progress": self.progress,
            "message": self.message,
        }


def event_of(task: Task, hop: Hop, now: float, source: str, **details: Any) -> TaskEvent:
    """The event of ``hop`` happening to ``task`` now."""
    return event_for(task.id, task.created_ms, task.ttl, hop, now, source, **details)


def created_event(task: Task) -> TaskEvent:
    """The first hop of every task: not stored apart, the task item records it."""
    message = f"retry of {task.retry_of}" if task.retry_of else ""
    return TaskEvent(
        task.id, Hop.CREATED, task.created_ms, 0, "api", task.ttl, status="CREATED", message=message
    )


def event_for(
    task_id: str,
    created_ms: int,
    expires: int,
    hop: Hop,
    now: float,
    source: str,
    **details: Any,
) -> TaskEvent:
    at_ms = int(now * 1000)
    return TaskEvent(task_id, hop, at_ms, max(0, at_ms - created_ms), source, expires, **details)


@dataclass(frozen=True)
class TimelineStep:
    """An event with the time spent since the previous one, for charts and consoles."""

    event: TaskEvent
    gap_ms: int


def steps(events: list[TaskEvent]) -> list[TimelineStep]:
    ordered = sorted(events, key=lambda event: event.at_ms)
    previous = ordered[0].at_ms if ordered else 0
    result = []
    for event in ordered:
        result.append(TimelineStep(event, max(0, event.at_ms - previous)))
        previous = event.at_ms
    return result
