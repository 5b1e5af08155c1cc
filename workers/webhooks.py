"""Webhooks: queued when a task with a callback_url ends, delivered signed, retried with backoff.

- Queueing: the publisher, the stream's reader, hands this module the
  records of writes that end a task with a callback_url (its third filter
  pattern; a reader of its own would pass DynamoDB's advised two per shard).
  The first send of each such task's webhook is queued, once per task,
  however often the record comes.
- Delivery (the ``webhooks`` function, on the webhook queue): one attempt per
  message, over within ``WEBHOOK_TIMEOUT_SECONDS`` in all (resolving,
  connecting, sending and reading together), and taken only while the
  invocation's time left covers it. A failed attempt makes the message invisible for the next backoff
  delay (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) and reports it failed, so
  SQS delivers it again then; after the 8th attempt SQS moves it to the
  webhook dead-letter queue.

Every attempt is an event on the task's timeline. Nothing here writes the
task: a receiver that is down never holds a task back or fails it.
"""

from __future__ import annotations

import functools
from typing import Any

from app import observability
from app.adapters import task_item, task_store
from app.adapters.webhook_deliveries import WebhookDeliveries
from app.adapters.webhook_queue import WebhookQueue
from app.domain import webhooks
from app.domain.webhooks import WebhookMessage
from app.services import webhooks as webhook_service
from app.settings import Settings, get_settings


class DeliveryFailed(Exception):
    """The attempt failed; SQS delivers the message again after its backoff."""


FINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})


def ends_a_task(record: dict[str, Any]) -> bool:
    """A stream record of the write that ends a task (the publisher's filter passes those with a callback)."""
    return record["dynamodb"].get("NewImage", {}).get("status", {}).get("S") in FINAL


def queue_records(records: list[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    """Stream records of tasks that ended: queue their webhooks; the partial batch response."""
    logger = observability.get_logger()
    failed: list[str] = []
    by_sequence = {}
    for record in records:
        sequence = record["dynamodb"]["SequenceNumber"]
        try:
            by_sequence[sequence] = task_item.from_item(record["dynamodb"]["NewImage"])
        except (KeyError, TypeError, ValueError):
            logger.error("stream record is not a task", extra={"sequence_number": sequence})
            failed.append(sequence)
    refused = webhook_service.queue_finished(
        WebhookDeliveries(settings.table_name),
        WebhookQueue(settings.webhook_queue_url),
        list(by_sequence.values()),
    )
    refused_ids = {task.id for task in refused}
    failed.extend(sequence for sequence, task in by_sequence.items() if task.id in refused_ids)
    # Lambda retries from the first failure, in stream order.
    failed.sort(key=int)
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}


class NotTaken(Exception):
    """Too little of the invocation is left for an attempt: the message goes back to the queue untried."""


# Beyond the attempt itself: reading the task, recording the attempt on its timeline, the backoff.
BOOKKEEPING_SECONDS = 3


def time_covers_an_attempt(context: Any, settings: Settings) -> bool:
    """The invocation's time left covers a whole attempt and its bookkeeping."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return True
    return remaining() / 1000 >= settings.webhook_timeout_seconds + BOOKKEEPING_SECONDS


def deliver_record(record: Any, settings: Settings, queue: WebhookQueue, context: Any = None) -> str:
    """One attempt of one queued webhook (a Powertools SQSRecord), if the invocation has time for it."""
    from app.adapters import dns, secrets, webhook_sender

    if not time_covers_an_attempt(context, settings):
        # Visible again at once for another invocation, rather than cut off by this one's timeout
        # (which would leave no event on the timeline and skip the backoff).
        queue.retry_later(record.receipt_handle, 0)
        raise NotTaken("too little time left in this invocation for a webhook attempt")
    try:
        message = WebhookMessage.from_json(record.body)
    except (ValueError, KeyError, TypeError):
        observability.get_logger().error("not a webhook message: dropped", extra={"body": record.body[:500]})
        return "dropped"
    attempt = int(record.attributes.approximate_receive_count or 1)
    with observability.correlated(message.task_id):
        outcome = webhook_service.deliver(
            task_store.for_table(settings.table_name),
            message,
            attempt,
            key=secrets.webhook_signing_key(settings),
            local=settings.is_local,
            # Resolving counts against the attempt's deadline too.
            resolve=functools.partial(dns.resolve_within, seconds=settings.webhook_timeout_seconds),
            post=webhook_sender.post,
            timeout=settings.webhook_timeout_seconds,
        )
        if outcome is None or outcome.delivered:
            return "delivered" if outcome else "dropped"
        delay = webhooks.retry_delay(attempt, settings.webhook_retry_schedule)
        if delay is not None:
            queue.retry_later(record.receipt_handle, delay)
        raise DeliveryFailed(f"webhook attempt {attempt} failed: {outcome.detail}")


@observability.lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = get_settings()
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    from app.adapters import secrets

    try:
        # Checked before any record: with no usable secret every attempt would fail
        # quietly as a receiver's failure would. This fails the invocation instead
        # (the errors alarm), and the messages wait in the queue for the secret.
        secrets.webhook_signing_key(settings)
    except secrets.SecretNotConfigured as exc:
        observability.get_logger().error(
            "webhook secret not configured", extra={"parameter": exc.parameter, "reason": str(exc)}
        )
        raise
    queue = WebhookQueue(settings.webhook_queue_url)
    return process_partial_response(
        event=event,
        record_handler=lambda record: deliver_record(record, settings, queue, context),
        # A receiver that is down is not this function's error: failed attempts are reported, not raised.
        processor=BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False),
        context=context,
    )
