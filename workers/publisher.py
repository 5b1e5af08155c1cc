"""DynamoDB stream -> SNS: publish each new task for the queue of its type.

The event source's filter patterns (serverless.yml) let through the tasks
that are ready to run (new ones, and scheduled ones that came due) and, for
workers/webhooks.py to queue their webhooks, the tasks that ended with a
callback_url (the stream's readers stay two, as DynamoDB advises).
Publishing is batched (10 per call, SNS's limit); a record that could not
be published is reported by sequence number, and Lambda retries the batch
from the first of them. Duplicates that retry causes are harmless: workers
claim tasks idempotently. The task's trace context rides along as message
attributes, which raw delivery turns into SQS message attributes. The
publisher writes nothing to the table: the worker records the publish hop
from the message (when SQS queued it).
"""

from __future__ import annotations

from typing import Any

from app import observability
from app.adapters import aws, task_item, trace_attributes
from app.domain.messages import TaskMessage
from app.domain.task import Task
from app.settings import get_settings
from workers import webhooks

SNS_BATCH_LIMIT = 10


def _entry(task: Task, entry_id: str, sent_by: str) -> dict[str, Any]:
    message = TaskMessage(task_id=task.id, task_type=task.task_type)
    attributes = {
        "task_type": {"DataType": "String", "StringValue": task.task_type},
        "task_id": {"DataType": "String", "StringValue": task.id},
        # The worker records the publish hop from the message (its time, and this).
        "sent_by": {"DataType": "String", "StringValue": sent_by},
        **trace_attributes.to_message_attributes(task.trace),
    }
    return {"Id": entry_id, "Message": message.to_json(), "MessageAttributes": attributes}


def publish_tasks(
    tasks: list[Task], topic_arn: str, sns: Any, sent_by: str = "publisher"
) -> tuple[list[Task], list[Task]]:
    """Send each task to the queue of its type, through the topic; return (published, not published).

    The publisher does this for new tasks; the reconciler and the dead-letter
    handler for tasks they send again.
    """
    logger = observability.get_logger()
    published: list[Task] = []
    refused: list[Task] = []
    for start in range(0, len(tasks), SNS_BATCH_LIMIT):
        by_id = {
            f"t{start + offset}": task for offset, task in enumerate(tasks[start : start + SNS_BATCH_LIMIT])
        }
        try:
            response = sns.publish_batch(
                TopicArn=topic_arn,
                PublishBatchRequestEntries=[
                    _entry(task, entry_id, sent_by) for entry_id, task in by_id.items()
                ],
            )
        except Exception:
            logger.exception("SNS publish_batch failed", extra={"entries": len(by_id)})
            refused.extend(by_id.values())
            continue
        for failure in response.get("Failed", []):
            task = by_id[failure["Id"]]
            with observability.correlated(task.id):
                logger.error("SNS refused the task", extra={"failure": failure})
            refused.append(task)
        for success in response.get("Successful", []):
            task = by_id[success["Id"]]
            with observability.correlated(task.id):
                logger.info("task published", extra={"sns_message_id": success.get("MessageId")})
            published.append(task)
    return published, refused


def publish_records(records: list[dict[str, Any]], topic_arn: str, sns: Any) -> dict[str, Any]:
    """Publish the tasks of ``records``; return the Lambda partial batch response."""
    logger = observability.get_logger()
    failed: list[str] = []
    sequences: dict[str, str] = {}
    tasks: list[Task] = []
    for record in records:
        sequence = record["dynamodb"]["SequenceNumber"]
        try:
            task = task_item.from_item(record["dynamodb"]["NewImage"])
        except (KeyError, TypeError, ValueError):
            logger.error("stream record is not a task", extra={"sequence_number": sequence})
            failed.append(sequence)
            continue
        sequences[task.id] = sequence
        tasks.append(task)
    _, refused = publish_tasks(tasks, topic_arn, sns)
    failed.extend(sequences[task.id] for task in refused)
    # Lambda retries from the first failure, in stream order.
    failed.sort(key=int)
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}


@observability.lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = get_settings()
    records = event.get("Records", [])
    # Tasks that ended with a callback_url: their webhooks are queued (workers/webhooks.py).
    ended = [record for record in records if webhooks.ends_a_task(record)]
    published = publish_records(
        [record for record in records if record not in ended],
        settings.topic_arn,
        aws.client("sns"),
    )
    if not ended:
        return published
    failed = published["batchItemFailures"] + webhooks.queue_records(ended, settings)["batchItemFailures"]
    # Lambda retries from the first failure, in stream order.
    return {"batchItemFailures": sorted(failed, key=lambda failure: int(failure["itemIdentifier"]))}
