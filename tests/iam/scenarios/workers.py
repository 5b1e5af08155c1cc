"""Each task type's worker, fed by Lambda's SQS event source: every outcome of a delivery."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from app.adapters import task_store
from app.domain.messages import TaskMessage
from app.domain.task import TaskStatus
from app.domain.task_types import TASK_TYPES
from app.settings import get_settings
from tests.conftest import wait_until
from tests.factories import a_task
from tests.iam.harness import Stage
from tests.iam.scenarios import register
from workers.consumer import TaskOutcome, TaskRun, process_message

# Per task type: data that completes (reporting progress), and data that fails.
SAMPLE_DATA: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "TASK1": ({"duration_seconds": 0.2}, {"fail": True, "fail_message": "as asked"}),
    "TASK2": ({"text": "one two\nthree\nfour five six"}, {}),
}


def sample_data(task_type: str) -> tuple[dict[str, Any], dict[str, Any]]:
    assert task_type in SAMPLE_DATA, (
        f"{__name__}.SAMPLE_DATA: give {task_type} data that completes and data that fails"
    )
    return SAMPLE_DATA[task_type]


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
    """Completes with progress, fails, crashes then resumes, a duplicate, a vanished task, a busy one."""
    function = task_type.lower()
    queue = queue_of(stage, function)
    completes, fails = sample_data(task_type)
    done, failed, crashing, finished = (
        a_task(task_type, completes),
        a_task(task_type, fails),
        a_task(task_type, {**completes, "crash_attempts": 1}),
        a_task(task_type, completes),
    )
    for task in (done, failed, crashing, finished):
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
        for task in (done, failed, crashing, finished, busy):
            send(stage, queue, task.id, task_type)
        send(stage, queue, "00000000-0000-4000-8000-000000000000", task_type)  # vanished
        send(stage, queue, done.id, "NOT_THIS_TYPE")

        def ended(task_id: str, status: TaskStatus) -> bool:
            return stage.store.get(task_id).status is status

        wait_until(
            lambda: (
                ended(done.id, TaskStatus.COMPLETED)
                and ended(failed.id, TaskStatus.FAILED)
                and ended(crashing.id, TaskStatus.COMPLETED)
            ),
            timeout=20,
            what=f"{task_type} tasks ended",
        )
        wait_until(lambda: any(busy.id in i.task_ids and i.failed for i in invocations), what="busy reported")
    assert stage.store.get(crashing.id).attempt == 2


def lease_lost(stage: Stage, task_type: str) -> None:
    """An attempt whose task was taken over meanwhile: its result is dropped, its events still recorded."""
    store = task_store.for_table(get_settings().table_name)  # the function's own store and client
    task = a_task(task_type, sample_data(task_type)[0])
    stage.store.add(task)

    def taken_over(run: TaskRun) -> TaskOutcome:
        later = run.task.moved_to(
            TaskStatus.IN_PROGRESS, "attempt 2 started", time.time(), attempt=run.attempt + 1
        )
        stage.store.replace_if(later, expected=run.task)
        return TaskOutcome("done")

    outcome = process_message(store, TaskMessage(task.id, task_type), taken_over, lease_seconds=30)
    assert outcome == "lease_lost"


for _task_type in TASK_TYPES:
    register(
        _task_type.lower(),
        "deliveries_end_as_they_should",
        partial(deliveries_end_as_they_should, task_type=_task_type),
    )
    register(_task_type.lower(), "lease_lost", partial(lease_lost, task_type=_task_type))
