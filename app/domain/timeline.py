"""A task's history: one event per hop, kept beside the task, never inside it."""

from __future__ import annotations

import enum
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
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
    # A SCHEDULED task's run_at came: the scheduler made it CREATED.
    DUE = "due"
    CANCEL_REQUESTED = "cancel_requested"
    CANCELLED = "cancelled"
    # One attempt to deliver the task's webhook, with the receiver's HTTP status.
    WEBHOOK = "webhook"


# What a crashed attempt's event keeps of its exception.
MAX_ERROR_MESSAGE_CHARS = 1000
MAX_STACK_CHARS = 4000


@dataclass(frozen=True)
class ErrorInfo:
    """An exception, as a timeline event keeps it: type, message and the end of its stack trace."""

    type: str
    message: str
    stack: str = ""

    @classmethod
    def of(cls, exc: BaseException) -> ErrorInfo:
        stack = "".join(traceback.format_exception(exc))
        if len(stack) > MAX_STACK_CHARS:
            # The innermost frames say most: the head is cut.
            stack = "...\n" + stack[-MAX_STACK_CHARS:]
        message = str(exc)
        if len(message) > MAX_ERROR_MESSAGE_CHARS:
            message = message[:MAX_ERROR_MESSAGE_CHARS] + "..."
        return cls(type(exc).__name__, message, stack)

    def to_public(self) -> dict[str, str]:
        return {"type": self.type, "message": self.message, "stack": self.stack}


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
    # A webhook attempt's HTTP status (None when no answer came).
    http_status: int | None = None
    # A crashed attempt's exception.
    error: ErrorInfo | None = None

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
            "http_status": self.http_status,
            "error": self.error.to_public() if self.error else None,
        }


def event_of(task: Task, hop: Hop, now: float, source: str, **details: Any) -> TaskEvent:
    """The event of ``hop`` happening to ``task`` now."""
    return event_for(task.id, task.created_ms, task.ttl, hop, now, source, **details)


def created_event(task: Task) -> TaskEvent:
    """The first hop of every task: not stored apart, the task item records it."""
    notes = [f"retry of {task.retry_of}"] if task.retry_of else []
    status = "CREATED"
    if task.run_at is not None:
        status = "SCHEDULED"
        notes.append(f"scheduled for {utc_text(task.run_at)}")
    return TaskEvent(
        task.id, Hop.CREATED, task.created_ms, 0, "api", task.ttl, status=status, message="; ".join(notes)
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


def utc_text(epoch_seconds: int) -> str:
    """Epoch seconds as ISO 8601 in UTC, e.g. 2026-12-01T10:00:00Z."""
    try:
        return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return str(epoch_seconds)
