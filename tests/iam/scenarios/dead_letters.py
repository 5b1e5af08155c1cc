"""deadLetters, fed by Lambda's SQS event sources on every DLQ: exhausted tasks end FAILED."""

from __future__ import annotations

import json

from app.domain.task import TaskStatus
from tests.conftest import wait_until
from tests.factories import a_task
from tests.iam.harness import Stage
from tests.iam.scenarios import scenario


def dead_letter(stage: Stage, dlq: str, body: str) -> None:
    stage.provisioned.clients["sqs"].send_message(QueueUrl=stage.provisioned.queue_url(dlq), MessageBody=body)


def drained(stage: Stage, dlq: str) -> bool:
    attributes = stage.provisioned.clients["sqs"].get_queue_attributes(
        QueueUrl=stage.provisioned.queue_url(dlq),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return all(int(count) == 0 for count in attributes.values())


@scenario("deadLetters")
def exhausted_tasks_end_failed_on_every_dlq(stage: Stage) -> None:
    dlqs = [
        queue.dead_letter_logical_id
        for queue in stage.provisioned.topology.queues.values()
        if queue.dead_letter_logical_id
    ]
    assert dlqs
    created, running, finished = a_task(), a_task(), a_task()
    for task in (created, running, finished):
        stage.store.add(task)
    running = stage.store.replace_if(
        running.moved_to(TaskStatus.IN_PROGRESS, "attempt 3 crashed", 1, attempt=3), expected=running
    )
    stage.store.replace_if(finished.moved_to(TaskStatus.FAILED, "done", 1), expected=finished)
    for dlq in dlqs:
        for task in (created, running, finished):
            dead_letter(stage, dlq, json.dumps({"task_id": task.id, "task_type": task.task_type}))
        dead_letter(
            stage, dlq, json.dumps({"task_id": "00000000-0000-4000-8000-000000000000", "task_type": "TASK1"})
        )
        dead_letter(stage, dlq, "not a task message")
        dead_letter(stage, dlq, json.dumps({"task_id": "x" * 3000, "task_type": "TASK1"}))
    with stage.lambda_service("deadLetters"):
        wait_until(lambda: all(drained(stage, dlq) for dlq in dlqs), timeout=20, what="every DLQ drained")
    assert stage.store.get(created.id).status is TaskStatus.FAILED
    assert stage.store.get(running.id).status is TaskStatus.FAILED
