"""DLQ redrive on the emulator (app/local/moto_patches/message_moves.py), through boto3 as AWS is called.

moto 5.2.5 has no StartMessageMoveTask; the emulator's patch must move a DLQ's
messages back to the queue they came from as SQS does: new messages (new id,
receive count 0, same body and attributes), in-flight ones left, the source
checked to be a DLQ, and the move listed by ListMessageMoveTasks.
"""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.integration


@pytest.fixture
def queues(emulator_endpoint):
    from app.local.runtime import emulator_clients

    sqs = emulator_clients(emulator_endpoint, "eu-west-1")["sqs"]
    name = f"moves-{uuid.uuid4().hex[:8]}"
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    source = sqs.create_queue(
        QueueName=name, Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "0"}
    )["QueueUrl"]
    return sqs, source, dlq, dlq_arn


def dead_letter(sqs, source: str, body: str) -> None:
    """A message that ran out of receives: SQS moves it to the DLQ on the next receive."""
    sqs.send_message(
        QueueUrl=source,
        MessageBody=body,
        MessageAttributes={"task_id": {"DataType": "String", "StringValue": body}},
    )
    assert sqs.receive_message(QueueUrl=source, VisibilityTimeout=0)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=source)


def test_a_redrive_sends_the_dead_letters_back_as_new_messages_and_lists_itself(queues):
    sqs, source, dlq, dlq_arn = queues
    for body in ("one", "two", "three"):
        dead_letter(sqs, source, body)
    # One of them is being looked at (in flight): it stays.
    held = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=1, VisibilityTimeout=60)["Messages"][0]
    moved_before = {
        m["MessageId"]
        for m in sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    }

    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]

    (listed,) = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert listed["TaskHandle"] == handle and listed["Status"] == "COMPLETED"
    assert listed["ApproximateNumberOfMessagesMoved"] == listed["ApproximateNumberOfMessagesToMove"] == 2
    back = sqs.receive_message(
        QueueUrl=source, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"]
    )["Messages"]
    assert sorted(m["Body"] for m in back) == sorted({"one", "two", "three"} - {held["Body"]})
    for message in back:
        assert message["MessageId"] not in moved_before
        assert message["Attributes"]["ApproximateReceiveCount"] == "1"  # this receive only
        assert message["MessageAttributes"]["task_id"]["StringValue"] == message["Body"]
    attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_only_a_dead_letter_queue_can_be_redriven(queues):
    sqs, source, _, _ = queues
    source_arn = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    with pytest.raises(ClientError) as refused:
        sqs.start_message_move_task(SourceArn=source_arn)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as unknown:
        sqs.start_message_move_task(SourceArn=source_arn + "-nope")
    assert unknown.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert sqs.list_message_move_tasks(SourceArn=queues[3])["Results"] == []
