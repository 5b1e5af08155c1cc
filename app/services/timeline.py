"""Recording and reading a task's timeline."""

from __future__ import annotations

from app.domain import rules
from app.domain.errors import StoreUnavailable
from app.domain.timeline import TaskEvent
from app.observability import get_logger
from app.services.ports import TaskRepository


def record(store: TaskRepository, *events: TaskEvent) -> None:
    """Best effort: a timeline that misses an event must not fail the task's work."""
    try:
        store.add_events(list(events))
    except StoreUnavailable as exc:
        get_logger().warning("timeline event not recorded", extra={"error": str(exc)})


def task_timeline(store: TaskRepository, task_id: str) -> list[TaskEvent]:
    rules.check_task_id(task_id)
    store.get(task_id)  # a 404 for an unknown task, not an empty timeline
    return store.events(task_id)
