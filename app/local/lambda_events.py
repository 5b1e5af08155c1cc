"""Events and contexts of the exact shapes the Lambda service passes to handlers."""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any


def dynamodb_stream_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A record from GetRecords, as Lambda delivers it.

    GetRecords leaves out eventSourceARN, and boto3 turns
    ApproximateCreationDateTime into a datetime; Lambda sends epoch seconds.
    """
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", region),
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A ReceiveMessage message, as Lambda delivers it."""
    attributes = {
        name: message.get("Attributes", {}).get(name)
        for name in (
            "ApproximateReceiveCount",
            "SentTimestamp",
            "SenderId",
            "ApproximateFirstReceiveTimestamp",
        )
    }
    attributes.update(
        {
            name: value
            for name, value in message.get("Attributes", {}).items()
            if name in ("AWSTraceHeader", "SequenceNumber", "MessageGroupId", "MessageDeduplicationId")
        }
    )
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {name: value for name, value in attributes.items() if value is not None},
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def scheduled_event(region: str, rule_name: str, now: float | None = None) -> dict[str, Any]:
    """An EventBridge scheduled event, as a schedule rule delivers it."""
    moment = time.gmtime(time.time() if now is None else now)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", moment),
        "region": region,
        "resources": [f"arn:aws:events:{region}:000000000000:rule/{rule_name}"],
        "detail": {},
    }


def function_arn(region: str, function_name: str) -> str:
    return f"arn:aws:lambda:{region}:000000000000:function:{function_name}"


@dataclass
class LambdaContext:
    """The context object handlers receive, with a real deadline."""

    function_name: str
    timeout_seconds: int
    region: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.invoked_function_arn = function_arn(self.region, self.function_name)
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"local/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
