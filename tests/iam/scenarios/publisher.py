"""The publisher, fed by Lambda's stream event source: new tasks to SNS, failures to the on-failure queue."""

from __future__ import annotations

from app.task_registry import read_folder as task_types  # the deployed ones
from app.task_type_stack import queue_id
from tests.conftest import wait_until
from tests.factories import a_task
from tests.iam.harness import Stage
from tests.iam.scenarios import scenario


def queued(stage: Stage, logical_id: str) -> bool:
    sqs = stage.provisioned.clients["sqs"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=stage.provisioned.queue_url(logical_id), AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"]) > 0


@scenario("publisher")
def new_tasks_are_published_to_the_queue_of_their_type(stage: Stage) -> None:
    with stage.lambda_service("publisher"):
        for task_type in task_types():
            stage.store.add(a_task(task_type))
        wait_until(
            lambda: all(queued(stage, queue_id(task_type)) for task_type in task_types().values()),
            what="tasks published",
        )


@scenario("publisher")
def a_record_sns_refuses_goes_to_the_on_failure_queue(stage: Stage) -> None:
    # A task item without a task type: SNS refuses the batch (an empty
    # attribute value), the record is reported as failed, and after its
    # retries (none here, to be quick) Lambda sends it to the on-failure queue.
    task = a_task()
    stage.store.dynamodb.put_item(
        TableName=stage.provisioned.resources.table_name,
        Item={
            "pk": {"S": f"TASK#{task.id}"},
            "sk": {"S": "TASK"},
            "id": {"S": task.id},
            "status": {"S": "CREATED"},
        },
    )
    sqs = stage.provisioned.clients["sqs"]
    queue = stage.provisioned.queue_url("PublisherFailureQueue")

    def parked() -> bool:
        attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"]) > 0

    with stage.lambda_service("publisher", maximum_retry_attempts=0) as invocations:
        wait_until(parked, what="the record on the on-failure queue")
    assert any(invocation.failed for invocation in invocations)


@scenario("publisher")
def a_record_that_is_no_task_is_reported_failed(stage: Stage) -> None:
    broken = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "42", "NewImage": {}}}
    response = stage.invoke("publisher", {"Records": [broken]})
    assert response == {"batchItemFailures": [{"itemIdentifier": "42"}]}
