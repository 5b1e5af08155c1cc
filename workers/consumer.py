"""The shared shell of every worker: SQS batch in, task claimed, run, finished.

Built on Powertools batch processing, so a failed record is reported alone
(ReportBatchItemFailures) and only it comes back after the visibility timeout.
A task's own failure (TaskFailure) ends it FAILED and is not retried; any
other exception is a crash: the message is retried, the next attempt resumes
the task, and after maxReceiveCount the DLQ handler ends it FAILED.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.adapters import task_store
from app.domain.claims import ClaimOutcome, decide_claim
from app.domain.errors import InvalidTransition, TaskNotFound
from app.domain.messages import TaskMessage
from app.domain.task import Task, TaskStatus
from app.observability import get_logger
from app.services.tasks import TaskRepository
from app.settings import get_settings

# Time kept back from the invocation's remaining time when computing a lease,
# so a lease never outlives the invocation that holds it by much.
LEASE_MARGIN_SECONDS = 2
DEFAULT_LEASE_SECONDS = 30


class TaskFailure(Exception):
    """The task ran and failed for a reason its user should read; not retried."""


class TaskBusy(Exception):
    """Another attempt holds the task; this delivery comes back later."""


class SimulatedCrash(Exception):
    """Raised on purpose (data.crash_attempts) to exercise retries and the DLQ."""


@dataclass(frozen=True)
class TaskRun:
    """What a task type's ``run`` function receives."""

    task: Task
    attempt: int
    resumed: bool

    @property
    def data(self) -> dict[str, Any]:
        return self.task.data


Run = Callable[[TaskRun], str]


def process_message(
    store: TaskRepository,
    message: TaskMessage,
    run: Run,
    *,
    lease_seconds: float,
    clock: Callable[[], float] = time.time,
) -> str:
    """Run the task of one message at most once to completion; return what happened."""
    logger = get_logger()
    try:
        task = store.get(message.task_id)
    except TaskNotFound:
        # Expired by TTL or deleted: nothing left to run.
        logger.warning("task of message not found", extra={"task_id": message.task_id})
        return "missing"
    now = clock()
    decision = decide_claim(task, now)
    if decision.outcome is ClaimOutcome.FINISHED:
        logger.info("duplicate delivery of a finished task", extra={"task_id": task.id})
        return "duplicate"
    if decision.outcome is ClaimOutcome.BUSY:
        raise TaskBusy(f"task {task.id} is held by attempt {task.attempt} until {task.lease_expires}")
    resumed = decision.outcome is ClaimOutcome.RESUME
    note = f"attempt {decision.attempt} " + ("resumed the task" if resumed else "started")
    claimed = task.moved_to(
        TaskStatus.IN_PROGRESS,
        note,
        now,
        attempt=decision.attempt,
        lease_expires=int(now + lease_seconds) + 1,
    )
    try:
        store.replace_if(claimed, expected=task)
    except InvalidTransition as exc:
        raise TaskBusy(f"task {task.id} was claimed by another delivery") from exc
    logger.info(note, extra={"task_id": task.id, "attempt": decision.attempt})

    try:
        crash_attempts = claimed.data.get("crash_attempts", 0)
        if isinstance(crash_attempts, int) and decision.attempt <= crash_attempts:
            raise SimulatedCrash(f"crash requested for attempt {decision.attempt} (data.crash_attempts)")
        result = run(TaskRun(task=claimed, attempt=decision.attempt, resumed=resumed))
    except TaskFailure as failure:
        return _finish(store, claimed, TaskStatus.FAILED, str(failure) or "task failed", clock)
    except Exception as crash:
        # Release the lease now, so the retry resumes without waiting it out,
        # and leave the reason where the DLQ handler will find it.
        reason = f"attempt {decision.attempt} crashed: {type(crash).__name__}: {crash}"
        try:
            released = claimed.moved_to(TaskStatus.IN_PROGRESS, reason, clock(), lease_expires=0)
            store.replace_if(released, expected=claimed)
        except InvalidTransition:
            logger.warning("lease lost before the crash was recorded", extra={"task_id": task.id})
        raise
    return _finish(store, claimed, TaskStatus.COMPLETED, result, clock)


def _finish(store: TaskRepository, claimed: Task, status: TaskStatus, message: str, clock) -> str:
    try:
        store.replace_if(claimed.moved_to(status, message, clock(), lease_expires=0), expected=claimed)
    except InvalidTransition:
        # A later attempt took the task over (our lease had run out); its
        # result stands, ours is dropped.
        get_logger().warning("lease lost; result dropped", extra={"task_id": claimed.id})
        return "lease_lost"
    get_logger().info(f"task {status.value.lower()}", extra={"task_id": claimed.id, "status_msg": message})
    return status.value.lower()


def lease_seconds_for(context: Any) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return DEFAULT_LEASE_SECONDS
    return max(1.0, remaining() / 1000 - LEASE_MARGIN_SECONDS)


def make_handler(task_type: str, run: Run) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of the worker for ``task_type``."""

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.batch import (
            BatchProcessor,
            EventType,
            process_partial_response,
        )

        store = task_store.for_table(get_settings().table_name)
        lease = lease_seconds_for(context)

        def record_handler(record: Any) -> str:
            message = TaskMessage.from_json(record.body)
            if message.task_type != task_type:
                raise TaskFailure(f"{task_type} worker got a {message.task_type} task")
            return process_message(store, message, run, lease_seconds=lease)

        return process_partial_response(
            event=event,
            record_handler=record_handler,
            processor=BatchProcessor(event_type=EventType.SQS),
            context=context,
        )

    handler.__name__ = f"{task_type.lower()}_handler"
    return handler
