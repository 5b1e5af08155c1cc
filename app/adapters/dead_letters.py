"""The dead-letter queues as an operator looks at them (SQS): depth, a peek at their messages, redrive.

A look at one queue is at most three requests: GetQueueAttributes (messages
waiting, in flight, the ARN), ReceiveMessage of up to 10 messages with
VisibilityTimeout=0 (a peek: each is visible again at once, nothing is
consumed; it counts as a receive, which matters only on a queue with a
redrive policy of its own, and these have none), and for a DLQ
ListMessageMoveTasks (its latest redrive). SQS has no "age of the oldest
message" attribute (CloudWatch's ApproximateAgeOfOldestMessage is a metric,
not on the queue, and not in the local emulator): the page takes it from the
SentTimestamp of the messages peeked, which is exact when they are all the
queue holds.
"""

from __future__ import annotations

from typing import Any

from app.adapters import aws
from app.domain.task_types import DEAD_LETTER_SUFFIX
from app.services.ports import (
    Held,
    Move,
    Peeked,
    QueueCounts,
    QueueLook,
    QueueUnavailable,
    RedriveRefused,
)
from app.task_registry import task_types

PEEK_MESSAGES = 10
# Finding one message: at most this many receives of 10 (the oldest 50 or so), each message
# hidden this long meanwhile and released at once after.
FIND_ROUNDS = 5
HOLD_SECONDS = 30
DLQ_SUFFIX = DEAD_LETTER_SUFFIX


def dead_letter_queue_urls(task_queue_url_prefix: str) -> dict[str, str]:
    """Each task type's DLQ URL: the prefix, its queue name and "-dlq" (serverless.yml names
    them so: app/task_type_stack.py). No prefix: no DLQ is shown."""
    return {
        name: f"{task_queue_url_prefix}{task_type.dead_letter_queue_suffix}" if task_queue_url_prefix else ""
        for name, task_type in task_types().items()
    }


def source_of(dlq_arn: str) -> str:
    """The queue a DLQ takes dead letters from: its name without "-dlq" (serverless.yml's naming)."""
    if not dlq_arn.endswith(DLQ_SUFFIX):
        raise RedriveRefused(f"{dlq_arn} is not named <queue>{DLQ_SUFFIX}: its source queue is unknown")
    return dlq_arn.removesuffix(DLQ_SUFFIX)


class DeadLetterQueues:
    def __init__(self, sqs: Any = None):
        self._sqs = sqs

    @property
    def sqs(self) -> Any:
        if self._sqs is None:
            self._sqs = aws.client("sqs")
        return self._sqs

    def _call(self, operation: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.sqs, operation)(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise QueueUnavailable(f"SQS {operation}: {error.get('Code')}: {error.get('Message')}") from exc
        except BotoCoreError as exc:
            raise QueueUnavailable(f"SQS {operation}: {exc}") from exc

    def look(self, url: str, moves: bool) -> QueueLook:
        """How many messages ``url`` holds, up to 10 of them (not consumed), and its latest redrive."""
        attributes = self._call(
            "get_queue_attributes",
            QueueUrl=url,
            AttributeNames=[
                "QueueArn",
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        received = self._call(
            "receive_message",
            QueueUrl=url,
            MaxNumberOfMessages=PEEK_MESSAGES,
            VisibilityTimeout=0,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["SentTimestamp"],
        )
        peeked = [
            Peeked(message["MessageId"], message["Body"], int(message["Attributes"]["SentTimestamp"]))
            for message in received.get("Messages", [])
        ]
        last_move = None
        if moves:
            results = self._call(
                "list_message_move_tasks", SourceArn=attributes["QueueArn"], MaxResults=1
            ).get("Results", [])
            if results:
                found = results[0]
                last_move = Move(
                    status=found["Status"],
                    moved=int(found.get("ApproximateNumberOfMessagesMoved", 0)),
                    to_move=int(found.get("ApproximateNumberOfMessagesToMove", 0)),
                    started_ms=int(found.get("StartedTimestamp", 0)),
                    failure=found.get("FailureReason", ""),
                )
        return QueueLook(
            url=url,
            arn=attributes["QueueArn"],
            visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            messages=sorted(peeked, key=lambda message: message.sent_ms),
            last_move=last_move,
        )

    def redrive(self, source_arn: str) -> None:
        """Start moving the DLQ's messages back to the queue they came from (StartMessageMoveTask).

        The destination is named, not left to SQS to find: the api's role
        then grants SendMessage on exactly that queue.
        """
        from botocore.exceptions import ClientError

        try:
            self.sqs.start_message_move_task(SourceArn=source_arn, DestinationArn=source_of(source_arn))
        except ClientError as exc:
            error = exc.response.get("Error", {})
            reason = error.get("Message") or error.get("Code")
            raise RedriveRefused(f"SQS refused the redrive: {reason}") from exc

    def counts(self, url: str) -> QueueCounts:
        attributes = self._call(
            "get_queue_attributes",
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return QueueCounts(
            visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        )

    def take(self, url: str, message_id: str) -> Held | None:
        """Receive until the message named comes up (hidden HOLD_SECONDS); every other one is released."""
        others: list[str] = []
        found = None
        try:
            for _ in range(FIND_ROUNDS):
                received = self._call(
                    "receive_message",
                    QueueUrl=url,
                    MaxNumberOfMessages=PEEK_MESSAGES,
                    VisibilityTimeout=HOLD_SECONDS,
                    WaitTimeSeconds=0,
                    MessageSystemAttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                for message in received:
                    if found is None and message["MessageId"] == message_id:
                        found = message
                    else:
                        others.append(message["ReceiptHandle"])
                if found is not None or not received:
                    break
        finally:
            self._release_all(url, others)
        if found is None:
            return None
        attributes = {
            name: {key: value for key, value in attribute.items() if key in ("DataType", "StringValue")}
            for name, attribute in found.get("MessageAttributes", {}).items()
        }
        return Held(
            message_id=found["MessageId"],
            body=found["Body"],
            sent_ms=int(found["Attributes"]["SentTimestamp"]),
            receive_count=int(found["Attributes"].get("ApproximateReceiveCount", 0)),
            attributes=attributes,
            receipt=found["ReceiptHandle"],
        )

    def _release_all(self, url: str, receipts: list[str]) -> None:
        for start in range(0, len(receipts), 10):
            entries = [
                {"Id": str(number), "ReceiptHandle": receipt, "VisibilityTimeout": 0}
                for number, receipt in enumerate(receipts[start : start + 10])
            ]
            self._call("change_message_visibility_batch", QueueUrl=url, Entries=entries)

    def release(self, url: str, receipt: str) -> None:
        self._release_all(url, [receipt])

    def delete(self, url: str, receipt: str) -> None:
        self._call("delete_message", QueueUrl=url, ReceiptHandle=receipt)

    def send(self, url: str, body: str, attributes: dict[str, dict[str, str]]) -> None:
        self._call("send_message", QueueUrl=url, MessageBody=body, MessageAttributes=attributes)

    def purge(self, url: str) -> None:
        """Delete every message (PurgeQueue; SQS takes one a minute per queue)."""
        from botocore.exceptions import ClientError

        try:
            self.sqs.purge_queue(QueueUrl=url)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            reason = error.get("Message") or error.get("Code")
            raise RedriveRefused(f"SQS refused the purge: {reason}") from exc
