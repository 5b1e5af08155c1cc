"""A task never runs more than its attempt limit, however often it is sent again (issue 18)."""

from __future__ import annotations

import time

import pytest

from app.domain.messages import TaskMessage
from app.domain.recovery import MAX_ATTEMPTS, QueueState
from app.domain.task import TaskStatus
from app.domain.timeline import Hop
from tests.factories import a_task
from workers.consumer import Delivery, TaskRun, process_message
from workers.publisher import publish_tasks
from workers.reconciler import reconcile

pytestmark = pytest.mark.integration


def test_a_crash_looping_task_runs_at_most_its_attempt_limit_however_often_it_is_redispatched(deployed):
    task = a_task()
    deployed.store.add(task)
    runs: list[int] = []

    def crash(run: TaskRun):
        runs.append(run.attempt)
        raise RuntimeError("boom")

    def publish(tasks):
        return publish_tasks(tasks, deployed.topic_arn, deployed.clients["sns"], sent_by="reconciler")[0]

    messages = {"A": TaskMessage(task.id, task.task_type)}  # the publisher's
    later = [time.time()]

    def redispatch(name: str) -> None:
        """The reconciler finds the task stuck (time moved on) and sends it again, through SNS and SQS."""
        later[0] += 10**6
        # Its message is still in flight: only a queue seen empty (say, purged) would have it sent again.
        purged = QueueState(emptied_at=later[0])
        assert reconcile(deployed.store, publish, 120, lambda _: purged, clock=lambda: later[0]) == {
            "redispatched": 1
        }
        (record,) = deployed.receive("Task1Queue")
        messages[name] = TaskMessage.from_json(record["body"])

    def deliver(name: str, receive_count: int) -> str:
        delivery = Delivery(messages[name], receive_count=receive_count)
        try:
            return process_message(deployed.store, delivery, crash, lease_seconds=30)
        except RuntimeError:
            return "crashed"

    # Each message delivered up to its queue's maxReceiveCount, the three interleaved as SQS may.
    outcomes = [deliver("A", 1), deliver("A", 2)]
    redispatch("B")
    outcomes += [deliver("A", 3), deliver("B", 1)]
    redispatch("C")
    schedule = [("B", 2), ("C", 1), ("A", 4), ("B", 3), ("C", 2), ("A", 5), ("B", 4), ("C", 3), ("B", 5)]
    schedule += [("C", 4), ("C", 5)]
    outcomes += [deliver(name, count) for name, count in schedule]

    assert runs == list(range(1, MAX_ATTEMPTS + 1))
    assert outcomes[:MAX_ATTEMPTS] == ["crashed"] * MAX_ATTEMPTS
    assert outcomes[MAX_ATTEMPTS:] == ["failed"] + ["duplicate"] * (len(outcomes) - MAX_ATTEMPTS - 1)
    ended = deployed.store.get(task.id)
    assert (ended.status, ended.attempt) == (TaskStatus.FAILED, MAX_ATTEMPTS)
    assert (
        ended.status_msg
        == f"gave up after {MAX_ATTEMPTS} attempt(s); last: attempt 5 crashed: RuntimeError: boom"
    )
    hops = [event.hop for event in deployed.store.events(task.id)]
    assert hops.count(Hop.STARTED) + hops.count(Hop.RESUMED) == MAX_ATTEMPTS
    assert hops.count(Hop.FAILED) == 1


def test_a_delivery_after_the_last_attempt_of_a_lower_limit_ends_the_task(provisioned):
    task = a_task()
    provisioned.store.add(task)
    message = TaskMessage(task.id, task.task_type)
    runs: list[int] = []

    def crash(run: TaskRun):
        runs.append(run.attempt)
        raise RuntimeError("boom")

    for receive in range(1, 4):
        with pytest.raises(RuntimeError):
            process_message(
                provisioned.store, Delivery(message, receive), crash, lease_seconds=30, max_attempts=3
            )
    assert (
        process_message(provisioned.store, Delivery(message, 4), crash, lease_seconds=30, max_attempts=3)
        == "failed"
    )
    assert runs == [1, 2, 3]
    assert provisioned.store.get(task.id).status is TaskStatus.FAILED
