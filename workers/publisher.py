"""DynamoDB stream -> SNS: publish each new task for the queue of its type.

The event source's filter pattern (serverless.yml) lets only new task items
through. Publishing is batched (10 per call, SNS's limit); a record that could
not be published is reported by sequence number, and Lambda retries the batch
from the first of them. Duplicates that retry causes are harmless: workers
claim tasks idempotently. The task's trace context rides along as message
attributes, which raw delivery turns into SQS message attributes.
"""

from __future__ import annotations

import time
from typing import Any

from app import observability
from app.adapters import aws, task_store
from app.domain.messages import TaskMessage
from app.domain.timeline import Hop, TaskEvent, event_of
from app.services import timeline
from app.services.ports import TaskRepository
from app.settings import get_settings

SNS_BATCH_LIMIT = 10


def _entry(record: dict[str, Any], entry_id: str) -> tuple[dict[str, Any], TaskEvent]:
    image = record["dynamodb"]["NewImage"]
    task = task_store.from_item(image)
    message = TaskMessage(task_id=task.id, task_type=task.task_type)
    attributes = {
        "task_type": {"DataType": "String", "StringValue": task.task_type},
        "task_id": {"DataType": "String", "StringValue": task.id},
        **task.trace.to_message_attributes(),
    }
    published = event_of(task, Hop.PUBLISHED, time.time(), "publisher", status=task.status.value)
    return {"Id": entry_id, "Message": message.to_json(), "MessageAttributes": attributes}, published


def publish_records(
    records: list[dict[str, Any]], topic_arn: str, sns: Any, store: TaskRepository | None = None
) -> dict[str, Any]:
    """Publish the tasks of ``records``; return the Lambda partial batch response."""
    logger = observability.get_logger()
    failed: list[str] = []
    entries: list[tuple[str, dict[str, Any], TaskEvent]] = []
    for record in records:
        sequence = record["dynamodb"]["SequenceNumber"]
        try:
            entry, published = _entry(record, f"r{len(entries)}")
        except (KeyError, TypeError, ValueError):
            logger.error("stream record is not a task", extra={"sequence_number": sequence})
            failed.append(sequence)
            continue
        entries.append((sequence, entry, published))

    events: list[TaskEvent] = []
    for start in range(0, len(entries), SNS_BATCH_LIMIT):
        chunk = entries[start : start + SNS_BATCH_LIMIT]
        by_id = {entry["Id"]: (sequence, published) for sequence, entry, published in chunk}
        try:
            response = sns.publish_batch(
                TopicArn=topic_arn, PublishBatchRequestEntries=[entry for _, entry, _ in chunk]
            )
        except Exception:
            logger.exception("SNS publish_batch failed", extra={"entries": len(chunk)})
            failed.extend(sequence for sequence, _ in by_id.values())
            continue
        for failure in response.get("Failed", []):
            sequence, published = by_id[failure["Id"]]
            with observability.correlated(published.task_id):
                logger.error("SNS refused the task", extra={"failure": failure})
            failed.append(sequence)
        for success in response.get("Successful", []):
            _, published = by_id[success["Id"]]
            with observability.correlated(published.task_id):
                logger.info("task published", extra={"sns_message_id": success.get("MessageId")})
            events.append(published)
    if store is not None and events:
        timeline.record(store, *events)
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}


@observability.lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = get_settings()
    return publish_records(
        event.get("Records", []),
        settings.topic_arn,
        aws.client("sns"),
        task_store.for_table(settings.table_name),
    )
