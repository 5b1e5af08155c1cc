"""Recovering a task that nothing is moving: the rule of app/domain/recovery.py, carried out.

Every write is conditional on the task as it was read (``replace_if``), so a
worker that claims the task meanwhile wins and the recovery is dropped. A
task sent again is sent first and written after: only tasks whose message
is gone are sent again, and a send that fails leaves the task as it was, so
the next run finds it lost still (a write first would make it look sent).
"""

from __future__ import annotations

from collections.abc import Callable

from app import observability, task_registry
from app.domain import cancellation
from app.domain.errors import InvalidTransition
from app.domain.recovery import MAX_ATTEMPTS, Recovery, decide_recovery
from app.domain.task import Task, TaskStatus
from app.domain.timeline import Hop, TaskEvent, event_of
from app.services import timeline
from app.services.ports import TaskRepository

# Sends tasks to their workers again; returns those that were sent.
Publish = Callable[[list[Task]], list[Task]]


def max_attempts_of(task_type: str) -> int:
    """The attempts its type declares; the default for a type no longer declared."""
    declared = task_registry.task_types().get(task_type)
    return declared.max_attempts if declared else MAX_ATTEMPTS


def recover(
    store: TaskRepository,
    task: Task,
    now: float,
    publish: Publish,
    *,
    source: str,
    first_events: tuple[Hop, ...] = (),
    max_redispatches: int | None = None,
    max_attempts: int | None = None,
) -> str:
    """Leave, send again or fail ``task``; record what was done on its timeline. Returns the outcome.

    ``first_events`` are hops to record before the outcome's own (the
    dead-letter handler's "dead_lettered").
    """
    logger = observability.get_logger()
    if max_attempts is None:
        max_attempts = max_attempts_of(task.task_type)
    decision = decide_recovery(task, now, max_attempts=max_attempts, max_redispatches=max_redispatches)
    noted: list[TaskEvent] = [event_of(task, hop, now, source, attempt=task.attempt) for hop in first_events]
    if decision.action is Recovery.LEAVE:
        logger.info("task left alone", extra={"reason": decision.reason})
        if noted:
            timeline.record(store, *noted)
        return "left"
    if decision.action is Recovery.CANCEL:
        ended, event = cancellation.cancelled(task, now, source)
        try:
            store.replace_if(ended, task)
        except InvalidTransition:
            logger.info("task moved meanwhile; left to whoever moved it")
            return "moved_meanwhile"
        timeline.record(store, *noted, event)
        observability.emit_metrics(task.task_type, TasksCancelled=("Count", 1))
        logger.info("task cancelled by recovery", extra={"reason": decision.reason})
        return "cancelled"
    if decision.action is Recovery.FAIL:
        try:
            # Every FAIL here is giving up (attempts or deliveries ran out): marked, so it can be told apart.
            gave_up = task.moved_to(TaskStatus.FAILED, decision.reason, now, lease_expires=0, gave_up=True)
            store.replace_if(gave_up, task)
        except InvalidTransition:
            logger.info("task moved meanwhile; left to whoever moved it")
            return "moved_meanwhile"
        logger.warning("task failed by recovery", extra={"reason": decision.reason})
        noted.append(event_of(task, Hop.FAILED, now, source, status=TaskStatus.FAILED.value,
                              attempt=task.attempt, message=decision.reason))  # fmt: skip
        timeline.record(store, *noted)
        observability.emit_metrics(
            task.task_type,
            TasksFailed=("Count", 1),
            EndToEndTime=("Milliseconds", now * 1000 - task.created_ms),
        )
        return "failed"
    # Sent first, then written: a send that fails writes nothing, so the task still
    # looks lost and the next run sends it (a write first would make it look sent).
    # Should the write then lose to a worker's claim, the message was simply in time.
    message = f"sent again ({task.redispatches + 1}): {decision.reason}"
    published = bool(publish([task]))
    if not published:
        message += "; the send failed, the next run tries again"
    noted.append(event_of(task, Hop.REDISPATCHED, now, source, status=task.status.value,
                          attempt=task.attempt, message=message))  # fmt: skip
    timeline.record(store, *noted)
    if not published:
        return "redispatch_failed"
    sent = task.moved_to(
        task.status,
        f"sent to its workers again ({source}): {decision.reason}",
        now,
        lease_expires=0,
        redispatches=task.redispatches + 1,
    )
    observability.emit_metrics(task.task_type, TasksRedispatched=("Count", 1))
    try:
        store.replace_if(sent, task)
    except InvalidTransition:
        logger.info("task moved after it was sent again: the message was in time")
        return "redispatched"
    logger.warning("task sent to its workers again", extra={"reason": decision.reason})
    return "redispatched"
