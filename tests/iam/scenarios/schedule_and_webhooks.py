"""The scheduler (on its schedule) and the webhooks function (the table's stream and its queue)."""

from __future__ import annotations

import time

from app.domain import webhooks
from app.domain.task import Task, TaskStatus, new_task
from app.domain.timeline import Hop
from app.local.lambda_events import scheduled_event
from tests.conftest import wait_until
from tests.factories import FAR_FUTURE
from tests.iam.harness import Stage
from tests.iam.scenarios import scenario


@scenario("scheduler")
def due_tasks_are_made_ready_to_run(stage: Stage) -> None:
    now = time.time()
    due = new_task("TASK1", {}, FAR_FUTURE, now - 60, run_at=int(now) - 1)
    later = new_task("TASK1", {}, FAR_FUTURE, now, run_at=int(now) + 3600)
    for task in (due, later):
        stage.store.add(task)
    outcomes = stage.invoke("scheduler", scheduled_event(stage.provisioned.topology.region, "scheduler-rule"))
    assert outcomes == {"started": 1}, outcomes
    assert stage.store.get(due.id).status is TaskStatus.CREATED
    assert stage.store.get(later.id).status is TaskStatus.SCHEDULED


def webhook_attempts(stage: Stage, task_id: str) -> int:
    return sum(event.hop is Hop.WEBHOOK for event in stage.store.events(task_id))


def queued_webhooks(stage: Stage) -> int:
    attributes = stage.provisioned.clients["sqs"].get_queue_attributes(
        QueueUrl=stage.provisioned.queue_url("WebhookQueue"), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def ended_task(stage: Stage) -> Task:
    # Put there by hand: the api would refuse this address. At send time it is
    # checked again and refused (a failed attempt, with its backoff), so no
    # request leaves the machine, and every AWS call of an attempt is made.
    task = new_task("TASK2", {}, FAR_FUTURE, time.time(), callback_url="https://10.0.0.1/hook")
    stage.store.add(task)
    running = task.moved_to(TaskStatus.IN_PROGRESS, "", time.time(), attempt=1)
    stage.store.replace_if(running, expected=task)
    stage.store.replace_if(running.moved_to(TaskStatus.COMPLETED, "done", time.time()), expected=running)
    return task


@scenario("publisher")
def an_ended_tasks_webhook_is_queued_once(stage: Stage) -> None:
    with stage.lambda_service("publisher"):
        ended_task(stage)
        wait_until(lambda: queued_webhooks(stage) == 1, what="the webhook queued")


@scenario("webhooks")
def a_queued_webhook_is_attempted(stage: Stage) -> None:
    environment = stage.environment("webhooks")
    stage.setup_ssm.put_parameter(
        Name=environment["WEBHOOK_SECRET_PARAMETER"],
        Value=webhooks.new_secret(bytes(32)),
        Type="SecureString",
        Overwrite=True,
    )
    task = ended_task(stage)
    stage.provisioned.clients["sqs"].send_message(
        QueueUrl=stage.provisioned.queue_url("WebhookQueue"),
        MessageBody=webhooks.WebhookMessage(task.id).to_json(),
    )
    queue = stage.provisioned.resources.queue_arns["WebhookQueue"].rsplit(":", 1)[-1]
    with stage.lambda_service("webhooks") as invocations:
        # The attempt's invocation ends after its backoff is set: wait for Lambda's report of it.
        wait_until(
            lambda: any(i.source == queue and i.failed for i in invocations),
            timeout=20,
            what="a failed attempt",
        )
    assert webhook_attempts(stage, task.id) == 1
    # A message that is not a webhook, dropped.
    stage.invoke("webhooks", {"Records": [_sqs_record(stage, "not a webhook")]})


def _sqs_record(stage: Stage, body: str) -> dict:
    from app.local.lambda_events import sqs_record

    arn = stage.provisioned.resources.queue_arns["WebhookQueue"]
    message = {"MessageId": "m-1", "ReceiptHandle": "r-1", "Body": body, "Attributes": {}, "MD5OfBody": ""}
    return sqs_record(message, arn, stage.provisioned.topology.region)
