"""Messages that exhausted their retries: their tasks end FAILED, saying why."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from app import observability
from app.adapters import task_store
from app.domain import rules
from app.domain.errors import InvalidTransition, TaskNotFound
from app.domain.messages import MalformedMessage, TaskMessage
from app.domain.task import TaskStatus
from app.domain.timeline import Hop, event_of
from app.services import timeline
from app.services.ports import TaskRepository
from app.settings import get_settings

MAX_WRITE_RACES = 3
SOURCE = "dead letters"


def fail_exhausted(
    store: TaskRepository, message: TaskMessage, clock: Callable[[], float] = time.time
) -> str:
    for _ in range(MAX_WRITE_RACES):
        try:
            task = store.get(message.task_id)
        except TaskNotFound:
            return "missing"
        if task.status.is_terminal:
            return "already_finished"
        reason = (
            f"gave up after {task.attempt} attempt(s)"
            if task.attempt
            else "gave up: no worker could start it"
        )
        if task.status_msg:
            reason += f"; last: {task.status_msg}"
        now = clock()
        try:
            store.replace_if(task.moved_to(TaskStatus.FAILED, reason, now, lease_expires=0), task)
        except InvalidTransition:
            continue  # a worker wrote meanwhile: read again
        observability.get_logger().warning("task failed: retries exhausted", extra={"reason": reason})
        timeline.record(
            store,
            event_of(task, Hop.DEAD_LETTERED, now, SOURCE, attempt=task.attempt
            ),
            event_of(task, Hop.FAILED, now, SOURCE,
                status=TaskStatus.FAILED.value, attempt=task.attempt, message=reason,
            ),
        )  # fmt: skip
        observability.emit_metrics(
            task.task_type,
            TasksFailed=("Count", 1),
            TasksDeadLettered=("Count", 1),
            EndToEndTime=("Milliseconds", now * 1000 - task.created_ms),
        )
        return "failed"
    raise RuntimeError(f"task {message.task_id} kept changing; will retry")


def _drop(record: Any, reason: str) -> str:
    observability.get_logger().error(
        "undeliverable message acknowledged and dropped from the DLQ",
        extra={"reason": reason, "message_id": record.message_id, "body": record.body[:500]},
    )
    return "dropped"


@observability.lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    store = task_store.for_table(get_settings().table_name)

    def record_handler(record: Any) -> str:
        # An undeliverable message (not a task message, or naming no possible
        # task) has nothing to mark, and kept it would come back for the queue's
        # 14 days: it is acknowledged, and logged for an operator.
        try:
            message = TaskMessage.from_json(record.body)
        except MalformedMessage:
            return _drop(record, "not a task message")
        if not rules.TASK_ID.match(message.task_id):
            return _drop(record, "its task_id is not a task id")
        with observability.correlated(message.task_id, message.task_type):
            return fail_exhausted(store, message)

    return process_partial_response(
        event=event,
        record_handler=record_handler,
        processor=BatchProcessor(event_type=EventType.SQS),
        context=context,
    )
