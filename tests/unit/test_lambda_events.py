import datetime
import json
from pathlib import Path

from app.local.lambda_events import LambdaContext, dynamodb_stream_record, sqs_record

EVENTS = Path(__file__).resolve().parents[1] / "events"


def test_stream_record_gets_lambda_shape():
    raw = {
        "eventID": "e1",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
            "Keys": {"pk": {"S": "TASK#1"}},
            "SequenceNumber": "100",
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    record = dynamodb_stream_record(raw, "arn:stream", "eu-west-1")
    assert record["eventSourceARN"] == "arn:stream"
    assert record["dynamodb"]["ApproximateCreationDateTime"] == 1767225600
    documented = json.loads((EVENTS / "dynamodb_stream_event.json").read_text())["Records"][0]
    assert set(record) == set(documented)


def test_sqs_record_gets_lambda_shape():
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "rh",
        "Body": "{}",
        "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "s"},
        "MessageAttributes": {"task_type": {"DataType": "String", "StringValue": "TASK1"}},
    }
    record = sqs_record(message, "arn:aws:sqs:eu-west-1:000000000000:q", "eu-west-1")
    documented = json.loads((EVENTS / "sqs_event.json").read_text())["Records"][0]
    assert set(record) == set(documented)
    assert record["messageAttributes"]["task_type"]["stringValue"] == "TASK1"
    assert record["messageAttributes"]["task_type"]["dataType"] == "String"


def test_context_counts_down_from_the_function_timeout():
    context = LambdaContext("task1", timeout_seconds=30, region="eu-west-1")
    assert 29_000 < context.get_remaining_time_in_millis() <= 30_000
    assert context.invoked_function_arn.endswith(":function:task1")
