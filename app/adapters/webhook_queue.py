"""The queue of webhook deliveries (SQS): sends, and a failed attempt's wait before the next."""

from __future__ import annotations

from typing import Any

from app.adapters import aws
from app.domain.errors import StoreUnavailable
from app.domain.webhooks import WebhookMessage

SQS_BATCH_LIMIT = 10
# SQS holds a message invisible for at most 12 hours.
MAX_VISIBILITY_SECONDS = 12 * 3600


class WebhookQueue:
    def __init__(self, queue_url: str, sqs: Any = None):
        self.queue_url = queue_url
        self._sqs = sqs

    @property
    def sqs(self) -> Any:
        if self._sqs is None:
            self._sqs = aws.client("sqs")
        return self._sqs

    def send(self, messages: list[WebhookMessage]) -> list[WebhookMessage]:
        """Queue each message; the ones SQS refused."""
        from botocore.exceptions import BotoCoreError, ClientError

        refused: list[WebhookMessage] = []
        for start in range(0, len(messages), SQS_BATCH_LIMIT):
            batch = {str(n): message for n, message in enumerate(messages[start : start + SQS_BATCH_LIMIT])}
            try:
                response = self.sqs.send_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {
                            "Id": entry_id,
                            "MessageBody": message.to_json(),
                            "MessageAttributes": {
                                "task_id": {"DataType": "String", "StringValue": message.task_id}
                            },
                        }
                        for entry_id, message in batch.items()
                    ],
                )
            except (BotoCoreError, ClientError):
                refused.extend(batch.values())
                continue
            refused.extend(batch[failure["Id"]] for failure in response.get("Failed", []))
        return refused

    def send_one(self, message: WebhookMessage) -> None:
        if self.send([message]):
            raise StoreUnavailable("SQS refused the webhook message")

    def retry_later(self, receipt_handle: str, delay_seconds: int) -> None:
        """The message comes back after ``delay_seconds`` (the failed attempt's backoff)."""
        self.sqs.change_message_visibility(
            QueueUrl=self.queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=min(MAX_VISIBILITY_SECONDS, max(0, delay_seconds)),
        )
