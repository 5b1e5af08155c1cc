"""Use cases of the task service. Dependencies are parameters; no AWS here."""

from __future__ import annotations

import time
from typing import Any

from app import observability
from app.domain import rules
from app.domain.errors import AlreadyRetried
from app.domain.listing import TaskPage, TaskQuery
from app.domain.task import Task, TaskStatus, check_retryable, check_transition, new_task
from app.domain.timeline import Hop, event_of
from app.domain.tracing import TraceContext
from app.services import timeline
from app.services.ports import Clock, TaskRepository


def create_task(
    store: TaskRepository,
    task_type: str,
    data: dict[str, Any],
    ttl: Any,
    *,
    max_data_bytes: int,
    default_ttl_seconds: int,
    trace: TraceContext | None = None,
    clock: Clock = time.time,
) -> Task:
    now = clock()
    rules.check_data(data, max_data_bytes)
    if ttl is None:
        expires = int(now) + default_ttl_seconds
    else:
        expires = rules.parse_epoch_seconds(ttl)
        rules.check_ttl(expires, now)
    task = new_task(task_type, data, expires, now, trace=trace)
    store.add(task)
    observability.emit_metrics(task.task_type, TasksCreated=("Count", 1))
    return task


def get_task(store: TaskRepository, task_id: str) -> Task:
    rules.check_task_id(task_id)
    return store.get(task_id)


def list_tasks(store: TaskRepository, query: TaskQuery, page_token: str | None = None) -> TaskPage:
    return store.list(query, page_token)


def change_status(
    store: TaskRepository,
    task_id: str,
    status: TaskStatus,
    status_msg: str,
    *,
    clock: Clock = time.time,
) -> Task:
    """Move a task through the state machine; a lost race is an InvalidTransition."""
    current = get_task(store, task_id)
    check_transition(task_id, current.status, status)
    now = clock()
    moved = store.replace_if(current.moved_to(status, status_msg, now), expected=current)
    timeline.record(
        store,
        event_of(current, Hop.STATUS_CHANGED, now, "api", status=status.value, message=status_msg),
    )
    return moved


def retry_task(
    store: TaskRepository,
    task_id: str,
    *,
    default_ttl_seconds: int,
    trace: TraceContext | None = None,
    clock: Clock = time.time,
) -> Task:
    """Run a FAILED task's work again, as a new task that names the original.

    Idempotent: a task is retried once; asking again returns that retry. The
    mark on the original and the new task are one conditional transaction,
    so of two concurrent retries exactly one creates a task.
    """
    original = get_task(store, task_id)
    if original.retried_as:
        return store.get(original.retried_as)
    check_retryable(original)
    now = clock()
    ttl = max(original.ttl, int(now) + default_ttl_seconds)
    retry = new_task(original.task_type, original.data, ttl, now, retry_of=original.id, trace=trace)
    try:
        store.add_retry(original, retry)
    except AlreadyRetried as exc:
        return store.get(exc.retry_id)
    observability.emit_metrics(retry.task_type, TasksCreated=("Count", 1))
    timeline.record(
        store,
        event_of(original, Hop.RETRIED, now, "api",
            status=original.status.value, message=f"retried as {retry.id}",
        ),
    )  # fmt: skip
    return retry
