"""Use cases of the task service. Dependencies are parameters; no AWS here."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from app import observability
from app.domain import cancellation, rules
from app.domain.cancellation import CancelAction, decide_cancel
from app.domain.errors import AlreadyRetried, InvalidTransition
from app.domain.idempotency import IdempotencyRecord
from app.domain.listing import TaskPage, TaskQuery
from app.domain.task import Task, TaskStatus, check_retryable, check_transition, new_task
from app.domain.timeline import Hop, event_of
from app.domain.tracing import TraceContext
from app.services import timeline
from app.services.ports import Clock, TaskRepository

# Given the new task, the idempotency record to write in the same transaction (app/services/idempotency.py).
Keep = Callable[[Task], IdempotencyRecord]
# Checks a callback_url (parsing it and resolving its host); CallbackRefused when the service won't call it.
CheckCallback = Callable[[str], None]
# A cancel request lost a race with a worker at most this often before it gives up (409).
CANCEL_ATTEMPTS = 3


def create_task(
    store: TaskRepository,
    task_type: str,
    data: dict[str, Any],
    ttl: Any,
    *,
    max_data_bytes: int,
    default_ttl_seconds: int,
    run_at: int | None = None,
    callback_url: str | None = None,
    check_callback: CheckCallback | None = None,
    trace: TraceContext | None = None,
    clock: Clock = time.time,
    keep: Keep | None = None,
) -> Task:
    """A new task: CREATED, or SCHEDULED until ``run_at`` (its default ttl then counts from run_at)."""
    now = clock()
    rules.check_data(data, max_data_bytes)
    if run_at is not None:
        rules.check_run_at(run_at, now)
    if ttl is None:
        expires = max(int(now), run_at or 0) + default_ttl_seconds
    else:
        expires = rules.parse_epoch_seconds(ttl)
        rules.check_ttl(expires, now)
        if run_at is not None:
            rules.check_ttl_after_run_at(expires, run_at)
    if callback_url is not None and check_callback is not None:
        check_callback(callback_url)
    task = new_task(task_type, data, expires, now, trace=trace, run_at=run_at, callback_url=callback_url)
    store.add(task, keep(task) if keep else None, now)
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
    requested_by: str = "api",
    clock: Clock = time.time,
) -> Task:
    """Move a task through the state machine; a lost race is an InvalidTransition."""
    current = get_task(store, task_id)
    check_transition(task_id, current.status, status)
    now = clock()
    if status is TaskStatus.CANCELLED:
        moved, event = cancellation.cancelled(current, now, "api", by=requested_by)
        if status_msg:
            moved = moved.moved_to(status, status_msg, now)
        store.replace_if(moved, expected=current)
        timeline.record(store, event)
        observability.emit_metrics(current.task_type, TasksCancelled=("Count", 1))
        return moved
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
    keep: Keep | None = None,
) -> Task:
    """Run a FAILED task's work again, as a new task that names the original.

    Idempotent: a task is retried once; asking again returns that retry. The
    mark on the original and the new task are one conditional transaction,
    so of two concurrent retries exactly one creates a task. The retry keeps
    the original's callback_url.
    """
    original = get_task(store, task_id)
    if original.retried_as:
        return store.get(original.retried_as)
    check_retryable(original)
    now = clock()
    ttl = max(original.ttl, int(now) + default_ttl_seconds)
    retry = new_task(
        original.task_type, original.data, ttl, now,
        retry_of=original.id, trace=trace, callback_url=original.callback_url,
    )  # fmt: skip
    try:
        store.add_retry(original, retry, keep(retry) if keep else None, now)
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


def cancel_task(
    store: TaskRepository, task_id: str, requested_by: str, *, source: str = "api", clock: Clock = time.time
) -> Task:
    """Cancel a task: at once if no worker holds it, at its worker's next write if one does.

    The task as it is after the request; InvalidTransition for a task that has
    ended. Every write is conditional on the task as it was read: if a worker
    claims the task meanwhile, the request is made again against what it did.
    """
    lost = 0
    while True:
        task = get_task(store, task_id)
        action = decide_cancel(task)
        if action is CancelAction.ALREADY_REQUESTED:
            return task
        now = clock()
        try:
            if action is CancelAction.CANCEL_NOW:
                ended, event = cancellation.cancelled(task, now, source, by=requested_by)
                store.replace_if(ended, expected=task)
                timeline.record(store, event)
                observability.emit_metrics(task.task_type, TasksCancelled=("Count", 1))
                return ended
            message = f"cancel requested by {requested_by}"
            flagged = task.moved_to(task.status, message, now, cancel_requested=requested_by)
            store.replace_if(flagged, expected=task)
            timeline.record(
                store,
                event_of(task, Hop.CANCEL_REQUESTED, now, source,
                         status=task.status.value, attempt=task.attempt, message=message),
            )  # fmt: skip
            return flagged
        except InvalidTransition:
            lost += 1
            if lost >= CANCEL_ATTEMPTS:
                raise
