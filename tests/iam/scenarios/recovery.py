"""The functions that recover stuck tasks: deadLetters (every DLQ) and the reconciler (schedule, failures)."""

from __future__ import annotations

import dataclasses
import json
import time

from app.domain.recovery import MAX_ATTEMPTS
from app.domain.task import Task, TaskStatus
from app.local.lambda_events import scheduled_event
from tests.conftest import wait_until
from tests.factories import a_task
from tests.iam.harness import Stage
from tests.iam.scenarios import scenario

HOUR_AGO = time.time() - 3600


def stored(stage: Stage, status: TaskStatus = TaskStatus.CREATED, **changes) -> Task:
    """A task put in the table with the test's own client, created an hour ago."""
    task = dataclasses.replace(a_task(now=HOUR_AGO), status=status, **changes)
    stage.store.add(task)
    return task


def stuck_tasks(stage: Stage) -> dict[str, Task]:
    """One task for each way a recovery can go: sent again, failed, left to its attempt, finished."""
    return {
        "unpicked": stored(stage),
        "stopped": stored(
            stage, TaskStatus.IN_PROGRESS, attempt=2, lease_expires=0, updated_time=int(HOUR_AGO)
        ),
        "spent": stored(
            stage, TaskStatus.IN_PROGRESS, attempt=MAX_ATTEMPTS, lease_expires=0, updated_time=int(HOUR_AGO)
        ),
        "held": stored(stage, TaskStatus.IN_PROGRESS, attempt=1, lease_expires=int(time.time()) + 600),
        "finished": stored(stage, TaskStatus.COMPLETED),
    }


def recovered(stage: Stage, tasks: dict[str, Task]) -> bool:
    now = {name: stage.store.get(task.id) for name, task in tasks.items()}
    return (
        now["unpicked"].redispatches >= 1
        and now["stopped"].redispatches >= 1
        and now["spent"].status is TaskStatus.FAILED
        and now["held"] == tasks["held"]
    )


def send(stage: Stage, queue: str, body: str) -> None:
    stage.provisioned.clients["sqs"].send_message(
        QueueUrl=stage.provisioned.queue_url(queue), MessageBody=body
    )


def drained(stage: Stage, queue: str) -> bool:
    attributes = stage.provisioned.clients["sqs"].get_queue_attributes(
        QueueUrl=stage.provisioned.queue_url(queue),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return all(int(count) == 0 for count in attributes.values())


@scenario("deadLetters")
def dead_letters_on_every_dlq(stage: Stage) -> None:
    # The task queues' DLQs (the webhook DLQ is an operator's, not deadLetters').
    dlqs = [f.queue_logical_id for f in stage.provisioned.topology.sqs_functions if f.name == "deadLetters"]
    assert dlqs
    for dlq in dlqs:
        tasks = stuck_tasks(stage)
        for task in tasks.values():
            send(stage, dlq, json.dumps({"task_id": task.id, "task_type": task.task_type}))
        send(
            stage, dlq, json.dumps({"task_id": "00000000-0000-4000-8000-000000000000", "task_type": "TASK1"})
        )
        send(stage, dlq, "not a task message")
        send(stage, dlq, json.dumps({"task_id": "x" * 3000, "task_type": "TASK1"}))
        with stage.lambda_service("deadLetters"):
            wait_until(lambda: drained(stage, dlq), timeout=20, what=f"{dlq} drained")  # noqa: B023
        assert recovered(stage, tasks)


@scenario("reconciler")
def reconciler_on_its_schedule(stage: Stage) -> None:
    tasks = stuck_tasks(stage)
    outcomes = stage.invoke(
        "reconciler", scheduled_event(stage.provisioned.topology.region, "reconciler-rule")
    )
    assert outcomes == {"redispatched": 2, "failed": 1}, outcomes
    assert recovered(stage, tasks)


@scenario("reconciler")
def reconciler_on_a_publisher_failure(stage: Stage) -> None:
    task = a_task()
    stage.store.add(task)
    (record,) = [
        r for r in stage.provisioned.stream_records() if r["dynamodb"]["Keys"]["pk"]["S"] == f"TASK#{task.id}"
    ]
    streams = stage.provisioned.clients["dynamodbstreams"]
    stream_arn = stage.provisioned.resources.stream_arn
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    sequence = record["dynamodb"]["SequenceNumber"]
    failure = {  # Lambda's on-failure record for a stream event source
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 6},
        "DDBStreamBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": sequence,
            "endSequenceNumber": sequence,
            "batchSize": 1,
            "streamArn": stream_arn,
        },
    }
    send(stage, "PublisherFailureQueue", json.dumps(failure))
    with stage.lambda_service("reconciler"):
        wait_until(lambda: stage.store.get(task.id).redispatches == 1, what="the task sent again")
