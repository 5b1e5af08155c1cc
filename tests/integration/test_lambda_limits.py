"""Lambda's limits, enforced by the local runtime: a function's timeout, and a batch that can't all run.

The SQS poller runs here against the emulator with functions declared in the
test (a short timeout), invoking real worker handlers.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from app.domain.task import TaskStatus
from app.local import timeouts
from app.local.pollers import Invocation, PollerContext, SqsPoller
from app.local.sls_config import SqsFunction
from tests.conftest import wait_until
from tests.factories import a_task

pytestmark = pytest.mark.integration


def test_an_invocation_past_its_timeout_is_stopped_and_can_write_nothing_more():
    after_deadline: list[str] = []

    def overruns(event, context):
        for _ in range(30):
            time.sleep(0.05)
        after_deadline.append("wrote")  # what Lambda would never let happen

    outcome = timeouts.invoke(overruns, {}, None, timeout_seconds=0.3)
    assert outcome.timed_out and outcome.error is None
    time.sleep(1.8)  # the stopped thread's sleeps would have ended by now
    assert after_deadline == []


def test_a_handler_error_within_the_timeout_is_a_function_error():
    def fails(event, context):
        raise ValueError("bad batch")

    outcome = timeouts.invoke(fails, {}, None, timeout_seconds=5)
    assert not outcome.timed_out and isinstance(outcome.error, ValueError)


def worker(timeout: int, batch_size: int) -> SqsFunction:
    return SqsFunction(
        name="task1",
        handler="tests.integration.limit_workers.one_second_runs",
        timeout=timeout,
        queue_logical_id="Task1Queue",
        batch_size=batch_size,
        batching_window=0,
        report_batch_item_failures=True,
    )


def run_poller(deployed, function: SqsFunction, until, timeout: float) -> list[Invocation]:
    """The SQS event source of ``function`` on the task1 queue, until ``until()``."""
    invocations: list[Invocation] = []
    stop = threading.Event()
    context = PollerContext(deployed.clients, deployed.topology.region, stop, invocations.append)
    queue = "Task1Queue"
    poller = SqsPoller(function, deployed.queue_url(queue), deployed.resources.queue_arns[queue], context)
    thread = threading.Thread(target=poller.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: until(invocations), timeout=timeout, interval=0.2, what="the poller's work")
    finally:
        stop.set()
        thread.join(10)
    return invocations


def enqueue(deployed, data: dict, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        task = a_task(data=data)
        deployed.store.add(task)
        deployed.clients["sqs"].send_message(
            QueueUrl=deployed.queue_url("Task1Queue"),
            MessageBody=json.dumps({"task_id": task.id, "task_type": "TASK1"}),
            MessageAttributes={"task_id": {"DataType": "String", "StringValue": task.id}},
        )
        ids.append(task.id)
    return ids


def statuses(deployed, ids: list[str]) -> list[TaskStatus]:
    return [deployed.store.get(task_id).status for task_id in ids]


def test_a_full_batch_of_long_tasks_runs_only_what_each_invocation_can_finish(deployed):
    # Five runs of up to a second, a 4 s timeout: a record starts only while 1 s
    # plus the 2 s margin is left, so an invocation runs two and hands the rest
    # back; none is cut off and none fails.
    ids = enqueue(deployed, {"sleep": 0.8}, count=5)
    invocations = run_poller(
        deployed, worker(timeout=4, batch_size=5),
        until=lambda _: set(statuses(deployed, ids)) == {TaskStatus.COMPLETED}, timeout=90,
    )  # fmt: skip
    assert not any(invocation.timed_out for invocation in invocations)
    assert any(invocation.failed for invocation in invocations), "some records should have been handed back"
    assert all(deployed.store.get(task_id).attempt == 1 for task_id in ids)


def test_an_invocation_past_the_function_timeout_is_stopped_reported_and_its_message_comes_back(deployed):
    # The task says it sleeps 6 s, in a 4 s function: started (its type declares
    # 1 s), stopped at 4 s, reported as a timeout; the message comes back and the
    # next attempt resumes the task, which the stopped one could never finish.
    (task_id,) = enqueue(deployed, {"sleep": 6}, count=1)
    invocations = run_poller(
        deployed, worker(timeout=4, batch_size=1),
        until=lambda seen: sum(invocation.timed_out for invocation in seen) >= 2, timeout=40,
    )  # fmt: skip
    timed_out = [invocation for invocation in invocations if invocation.timed_out]
    assert timed_out[0].error == "Task timed out after 4 seconds" and timed_out[0].failed == 1
    task = deployed.store.get(task_id)
    assert task.status is TaskStatus.IN_PROGRESS and task.attempt >= 2
    assert "resumed" in task.status_msg
