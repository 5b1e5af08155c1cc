"""Each task type's worker, fed by Lambda's SQS event source: every outcome of a delivery."""

from __future__ import annotations

import time
from functools import partial

from app.adapters import task_store
from app.domain.messages import TaskMessage
from app.domain.task import TaskStatus
from app.settings import get_settings
from app.task_registry import read_folder as task_types  # the deployed ones
from tests.conftest import wait_until
from tests.factories import a_task
from tests.iam.harness import Stage
from tests.iam.scenarios import register
from workers.consumer import TaskOutcome, TaskRun, process_message


def send(stage: Stage, queue: str, task_id: str, task_type: str) -> None:
    """The message as SNS's raw delivery puts it on the queue: attributes included."""
    attributes = {name: {"DataType": "String", "StringValue": value} for name, value in
                  (("task_id", task_id), ("task_type", task_type))}  # fmt: skip
    stage.provisioned.clients["sqs"].send_message(
        QueueUrl=stage.provisioned.queue_url(queue),
        MessageBody=TaskMessage(task_id, task_type).to_json(),
        MessageAttributes=attributes,
    )


def queue_of(stage: Stage, function: str) -> str:
    (worker,) = [f for f in stage.provisioned.topology.sqs_functions if f.name == function]
    return worker.queue_logical_id


def deliveries_end_as_they_should(stage: Stage, task_type: str) -> None:
    """Completes (its declared sample data), a duplicate, a vanished task, a busy one (its message
    brought back when the lease ends), another type's message. A crash's writes are a claim's and a
    finish's (tests/integration/test_retry_backoff.py runs one through a handler)."""
    function = task_types()[task_type].function_name
    queue = queue_of(stage, function)
    completes = task_types()[task_type].sample_data
    done, finished = a_task(task_type, completes), a_task(task_type, completes)
    for task in (done, finished):
        stage.store.add(task)
    stage.store.replace_if(finished.moved_to(TaskStatus.COMPLETED, "earlier", 1), expected=finished)
    busy = a_task(task_type, completes)
    stage.store.add(busy)
    stage.store.replace_if(
        busy.moved_to(
            TaskStatus.IN_PROGRESS, "attempt 1 started", 1, attempt=1, lease_expires=int(time.time()) + 600
        ),
        expected=busy,
    )
    with stage.lambda_service(function) as invocations:
        for task in (done, finished, busy):
            send(stage, queue, task.id, task_type)
        send(stage, queue, "00000000-0000-4000-8000-000000000000", task_type)  # vanished
        send(stage, queue, done.id, "NOT_THIS_TYPE")

        def ended(task_id: str, status: TaskStatus) -> bool:
            return stage.store.get(task_id).status is status

        wait_until(lambda: ended(done.id, TaskStatus.COMPLETED), timeout=20, what=f"{task_type} task ended")
        wait_until(lambda: any(busy.id in i.task_ids and i.failed for i in invocations), what="busy reported")


def lease_lost(stage: Stage, task_type: str) -> None:
    """An attempt whose task was taken over meanwhile: its result is dropped, its events still recorded."""
    store = task_store.for_table(get_settings().table_name)  # the function's own store and client
    task = a_task(task_type, task_types()[task_type].sample_data)
    stage.store.add(task)

    def taken_over(run: TaskRun) -> TaskOutcome:
        later = run.task.moved_to(
            TaskStatus.IN_PROGRESS, "attempt 2 started", time.time(), attempt=run.attempt + 1
        )
        stage.store.replace_if(later, expected=run.task)
        return TaskOutcome("done")

    outcome = process_message(store, TaskMessage(task.id, task_type), taken_over, lease_seconds=30)
    assert outcome == "lease_lost"


for _task_type in task_types().values():
    register(
        _task_type.function_name,
        "deliveries_end_as_they_should",
        partial(deliveries_end_as_they_should, task_type=_task_type.name),
    )
    register(_task_type.function_name, "lease_lost", partial(lease_lost, task_type=_task_type.name))
