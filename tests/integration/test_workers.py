"""Publisher and workers against the emulator: fan-out, claims, crashes, duplicates."""

import json
import time

import pytest

from app.domain.messages import TaskMessage
from app.domain.task import TaskStatus
from app.domain.timeline import Hop
from app.local.filter_patterns import matches_any
from tests.factories import a_task
from tests.integration.conftest import provision_stage
from workers.consumer import Delivery, TaskBusy, TaskFailure, TaskOutcome, process_message
from workers.publisher import publish_records
from workers.tasks import flaky


@pytest.fixture
def fresh(emulator_endpoint):
    return provision_stage(emulator_endpoint)


def test_publisher_fans_new_tasks_out_to_the_queue_of_their_type(fresh):
    first, second = a_task("TASK1"), a_task("TASK2")
    fresh.store.add(first)
    fresh.store.add(second)
    claimed = first.moved_to(TaskStatus.IN_PROGRESS, "", 1, attempt=1)
    fresh.store.replace_if(claimed, expected=first)  # a MODIFY the filter must drop

    publisher = next(f for f in fresh.topology.stream_functions if f.name == "publisher")
    records = [r for r in fresh.stream_records() if matches_any(publisher.filter_patterns, r)]
    assert [r["eventName"] for r in records] == ["INSERT", "INSERT"]

    response = publish_records(records, fresh.topic_arn, fresh.clients["sns"])
    assert response == {"batchItemFailures": []}
    (task1_message,) = fresh.receive("Task1Queue")
    (task2_message,) = fresh.receive("Task2Queue")
    assert TaskMessage.from_json(task1_message["body"]) == TaskMessage(first.id, "TASK1")
    assert TaskMessage.from_json(task2_message["body"]) == TaskMessage(second.id, "TASK2")
    assert task1_message["messageAttributes"]["task_type"]["stringValue"] == "TASK1"
    assert task1_message["messageAttributes"]["task_id"]["stringValue"] == first.id


def test_publisher_reports_what_it_could_not_publish(fresh):
    task = a_task()
    fresh.store.add(task)
    (record,) = fresh.stream_records()
    broken = {"dynamodb": {"SequenceNumber": "999", "NewImage": {}}}
    missing_topic = fresh.topic_arn + "-gone"
    response = publish_records([record, broken], missing_topic, fresh.clients["sns"])
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert sorted(failed) == sorted([record["dynamodb"]["SequenceNumber"], "999"])


class Counter:
    def __init__(self, result: str = "done", error: Exception | None = None):
        self.calls = 0
        self.result = result
        self.error = error

    def __call__(self, run) -> TaskOutcome:
        self.calls += 1
        if self.error:
            raise self.error
        return TaskOutcome(self.result)


def test_a_task_runs_once_however_often_it_is_delivered(provisioned):
    task = a_task()
    provisioned.store.add(task)
    run = Counter("all good")
    message = TaskMessage(task.id, task.task_type)
    assert process_message(provisioned.store, message, run, lease_seconds=30) == "completed"
    assert process_message(provisioned.store, message, run, lease_seconds=30) == "duplicate"
    assert run.calls == 1
    done = provisioned.store.get(task.id)
    assert (done.status, done.status_msg, done.attempt) == (TaskStatus.COMPLETED, "all good", 1)


def test_a_delivery_while_another_attempt_holds_the_task_comes_back_later(provisioned):
    task = a_task()
    provisioned.store.add(task)
    holder = task.moved_to(TaskStatus.IN_PROGRESS, "", 1, attempt=1, lease_expires=4_000_000_000)
    provisioned.store.replace_if(holder, expected=task)
    run = Counter()
    with pytest.raises(TaskBusy):
        process_message(provisioned.store, TaskMessage(task.id, "TASK1"), run, lease_seconds=30)
    assert run.calls == 0


def test_a_crashed_attempt_is_resumed_by_the_retry(provisioned):
    task = a_task("FLAKY", {"crash_attempts": 1})
    provisioned.store.add(task)
    message = TaskMessage(task.id, "FLAKY")
    with pytest.raises(flaky.DeliberateCrash):
        process_message(provisioned.store, message, flaky.run, lease_seconds=30)
    crashed = provisioned.store.get(task.id)
    assert crashed.status is TaskStatus.IN_PROGRESS
    assert "attempt 1 crashed: DeliberateCrash" in crashed.status_msg
    assert crashed.lease_expires == 0  # released: the retry need not wait

    assert (
        process_message(provisioned.store, message, Counter("second time lucky"), lease_seconds=30)
        == "completed"
    )
    done = provisioned.store.get(task.id)
    assert (done.status, done.attempt, done.status_msg) == (TaskStatus.COMPLETED, 2, "second time lucky")


class SentAgainDuringTheClaim:
    """The store, with the reconciler's "sent again" write landing between a delivery's read and its claim."""

    def __init__(self, store):
        self.store, self.sent = store, 0

    def __getattr__(self, name):
        return getattr(self.store, name)

    def replace_if(self, new, expected, *args, **kwargs):
        if new.attempt > expected.attempt and not self.sent:
            self.sent += 1
            again = expected.moved_to(
                expected.status, "sent again", 2, redispatches=expected.redispatches + 1
            )
            self.store.replace_if(again, expected=expected)
        return self.store.replace_if(new, expected, *args, **kwargs)


def test_a_claim_that_loses_to_a_send_again_is_judged_again_and_runs(provisioned):
    """A redispatch publishes first and writes after: its message can be delivered before its
    write lands. The claim then fails its condition, but the task is still free: it runs now,
    not a visibility timeout later (make run took 3 minutes to recover after a restart)."""
    task = a_task()
    provisioned.store.add(task)
    stopped = task.moved_to(TaskStatus.IN_PROGRESS, "attempt 1 stopped", 1, attempt=1, lease_expires=0)
    provisioned.store.replace_if(stopped, expected=task)
    store = SentAgainDuringTheClaim(provisioned.store)
    run = Counter("resumed")
    assert process_message(store, TaskMessage(task.id, "TASK1"), run, lease_seconds=30) == "completed"
    assert store.sent == 1 and run.calls == 1
    done = provisioned.store.get(task.id)
    assert (done.status, done.attempt, done.redispatches) == (TaskStatus.COMPLETED, 2, 1)


def test_an_attempt_whose_lease_was_taken_over_cannot_overwrite_the_result(provisioned):
    task = a_task()
    provisioned.store.add(task)
    message = TaskMessage(task.id, "TASK1")
    now = [1000.0]

    def clock() -> float:
        return now[0]

    def slow_first_attempt(run):
        # While this attempt hangs, its lease runs out and another takes over.
        now[0] = 2000.0
        assert process_message(
            provisioned.store, message, Counter("winner"), lease_seconds=30, clock=clock
        ) == ("completed")
        return TaskOutcome("too late")

    outcome = process_message(provisioned.store, message, slow_first_attempt, lease_seconds=30, clock=clock)
    assert outcome == "lease_lost"
    final = provisioned.store.get(task.id)
    assert (final.status_msg, final.attempt) == ("winner", 2)


class Killed(BaseException):
    """The process dying mid-run (kill -9, a Lambda timeout): nothing after it is written."""


def test_a_claim_writes_its_publish_delivery_and_start_with_it(provisioned):
    task = a_task(now=time.time() - 5)
    provisioned.store.add(task)
    message = TaskMessage(task.id, "TASK1")
    sent_ms = task.created_ms + 40

    def dies(run):
        raise Killed()

    with pytest.raises(Killed):  # attempt 1: claimed through the first-claim write
        process_message(provisioned.store, Delivery(message, sent_ms=sent_ms), dies, lease_seconds=30)
    later = time.time() + 60
    with pytest.raises(Killed):  # attempt 2: claimed by the resuming write, once the lease ran out
        process_message(
            provisioned.store, Delivery(message, receive_count=2), dies, lease_seconds=30, clock=lambda: later
        )
    timeline = provisioned.store.events(task.id)
    assert [(e.hop, e.attempt, e.status) for e in timeline] == [
        (Hop.CREATED, None, "CREATED"),
        (Hop.PUBLISHED, None, "CREATED"),
        (Hop.DELIVERED, 1, "CREATED"),
        (Hop.STARTED, 1, "IN_PROGRESS"),
        (Hop.DELIVERED, 2, "IN_PROGRESS"),
        (Hop.RESUMED, 2, "IN_PROGRESS"),
    ]
    published = timeline[1]
    assert (published.at_ms, published.since_created_ms, published.expires) == (sent_ms, 40, task.ttl)
    assert all(event.since_created_ms == event.at_ms - task.created_ms for event in timeline)


def test_a_task_failure_ends_failed_without_retry(provisioned):
    task = a_task()
    provisioned.store.add(task)
    run = Counter(error=TaskFailure("input was unusable"))
    assert (
        process_message(provisioned.store, TaskMessage(task.id, "TASK1"), run, lease_seconds=30) == "failed"
    )
    failed = provisioned.store.get(task.id)
    assert (failed.status, failed.status_msg) == (TaskStatus.FAILED, "input was unusable")


def test_a_message_for_a_vanished_task_is_dropped(provisioned):
    assert (
        process_message(provisioned.store, TaskMessage("gone", "TASK1"), Counter(), lease_seconds=30)
        == "missing"
    )


def test_message_format_is_stable():
    assert json.loads(TaskMessage("a", "TASK1").to_json()) == {"task_id": "a", "task_type": "TASK1"}
