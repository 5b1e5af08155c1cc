"""Messages that ran out of deliveries: their tasks end FAILED saying why, or are sent again."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from app import observability
from app.adapters import aws, task_store
from app.domain import rules
from app.domain.errors import TaskNotFound
from app.domain.messages import MalformedMessage, TaskMessage
from app.domain.recovery import MAX_REDISPATCHES
from app.domain.task import Task
from app.domain.timeline import Hop
from app.services import recovery
from app.services.ports import TaskRepository
from app.settings import get_settings
from workers.publisher import publish_tasks

SOURCE = "dead letters"


def handle_exhausted(
    store: TaskRepository,
    message: TaskMessage,
    publish: recovery.Publish,
    clock: Callable[[], float] = time.time,
) -> str:
    """A message that ran out of deliveries: its task ends FAILED, is sent again, or is left to its attempt.

    Deliveries are spent on busy tasks and lost attempts too, so running out
    of them is not the same as running out of attempts (app/domain/recovery.py).
    """
    try:
        task = store.get(message.task_id)
    except TaskNotFound:
        return "missing"
    outcome = recovery.recover(
        store,
        task,
        clock(),
        publish,
        source=SOURCE,
        first_events=(Hop.DEAD_LETTERED,),
        max_redispatches=MAX_REDISPATCHES,
    )
    if outcome == "failed":
        observability.emit_metrics(task.task_type, TasksDeadLettered=("Count", 1))
    if outcome == "moved_meanwhile":
        raise RuntimeError(f"task {message.task_id} changed while it was recovered; will retry")
    return outcome


def _drop(record: Any, reason: str) -> str:
    observability.get_logger().error(
        "undeliverable message acknowledged and dropped from the DLQ",
        extra={"reason": reason, "message_id": record.message_id, "body": record.body[:500]},
    )
    return "dropped"


@observability.lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    settings = get_settings()
    store = task_store.for_table(settings.table_name)

    def publish(tasks: list[Task]) -> list[Task]:
        return publish_tasks(tasks, settings.topic_arn, aws.client("sns"), sent_by=SOURCE)[0]

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
            return handle_exhausted(store, message, publish)

    return process_partial_response(
        event=event,
        record_handler=record_handler,
        processor=BatchProcessor(event_type=EventType.SQS),
        context=context,
    )
