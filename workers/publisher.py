"""DynamoDB stream -> SNS: publish each new task for the queue of its type.

The event source's filter pattern (serverless.yml) lets only new task items
through. Publishing is batched (10 per call, SNS's limit); a record that could
not be published is reported by sequence number, and Lambda retries the batch
from the first of them. Duplicates that retry causes are harmless: workers
claim tasks idempotently.
"""

from __future__ import annotations

from typing import Any

from app.adapters import aws
from app.domain.messages import TaskMessage
from app.observability import get_logger
from app.settings import get_settings

SNS_BATCH_LIMIT = 10


def _message_for(record: dict[str, Any]) -> TaskMessage:
    image = record["dynamodb"]["NewImage"]
    return TaskMessage(task_id=image["id"]["S"], task_type=image["task_type"]["S"])


def publish_records(records: list[dict[str, Any]], topic_arn: str, sns: Any) -> dict[str, Any]:
    """Publish the tasks of ``records``; return the Lambda partial batch response."""
    logger = get_logger()
    failed: list[str] = []
    entries: list[tuple[str, dict[str, Any]]] = []
    for record in records:
        sequence = record["dynamodb"]["SequenceNumber"]
        try:
            message = _message_for(record)
        except (KeyError, TypeError):
            logger.error("stream record is not a task", extra={"sequence_number": sequence})
            failed.append(sequence)
            continue
        entries.append(
            (
                sequence,
                {
                    "Id": f"r{len(entries)}",
                    "Message": message.to_json(),
                    "MessageAttributes": {
                        "task_type": {"DataType": "String", "StringValue": message.task_type},
                        "task_id": {"DataType": "String", "StringValue": message.task_id},
                    },
                },
            )
        )
    for start in range(0, len(entries), SNS_BATCH_LIMIT):
        chunk = entries[start : start + SNS_BATCH_LIMIT]
        sequence_of = {entry["Id"]: sequence for sequence, entry in chunk}
        try:
            response = sns.publish_batch(
                TopicArn=topic_arn, PublishBatchRequestEntries=[entry for _, entry in chunk]
            )
        except Exception:
            logger.exception("SNS publish_batch failed", extra={"entries": len(chunk)})
            failed.extend(sequence_of.values())
            continue
        for failure in response.get("Failed", []):
            logger.error("SNS refused a task", extra={"failure": failure})
            failed.append(sequence_of[failure["Id"]])
        for success in response.get("Successful", []):
            logger.info("task published", extra={"sequence_number": sequence_of[success["Id"]]})
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return publish_records(event.get("Records", []), get_settings().topic_arn, aws.client("sns"))
