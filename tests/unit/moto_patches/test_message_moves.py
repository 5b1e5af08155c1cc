"""message_moves: dead-letter queue redrive (StartMessageMoveTask, ListMessageMoveTasks), through boto3."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.unit.moto_patches.backends import unique


@pytest.mark.needs_patch("message_moves")
def test_a_dead_letter_queue_is_moved_back_to_its_source_queue(aws):
    sqs = aws("sqs")
    dlq_url = sqs.create_queue(QueueName=unique("dlq"))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    source_url = sqs.create_queue(QueueName=unique("source"), Attributes={"RedrivePolicy": redrive})[
        "QueueUrl"
    ]
    attributes = {"kind": {"DataType": "String", "StringValue": "dead"}}
    for number in range(3):
        sqs.send_message(QueueUrl=dlq_url, MessageBody=f"m{number}", MessageAttributes=attributes)

    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]

    moved = sqs.receive_message(QueueUrl=source_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    assert sorted(message["Body"] for message in moved["Messages"]) == ["m0", "m1", "m2"]
    assert all(message["MessageAttributes"] == attributes for message in moved["Messages"])
    assert "Messages" not in sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)
    (task,) = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert (task["TaskHandle"], task["Status"], task["ApproximateNumberOfMessagesMoved"]) == (
        handle,
        "COMPLETED",
        3,
    )


def test_only_a_dead_letter_queue_can_be_moved(aws):
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=unique("plain"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    with pytest.raises(ClientError) as refused:
        sqs.start_message_move_task(SourceArn=arn)
    assert refused.value.response["Error"]["Code"] in (
        "InvalidParameterValue",
        "InvalidParameterValueException",
    )
