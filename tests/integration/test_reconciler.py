"""No task stands still: the reconciler and the dead-letter handler against the emulator."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from app.adapters.queue_marks import QueueMarks
from app.domain.recovery import MAX_ATTEMPTS
from app.domain.task import TaskStatus
from app.domain.timeline import Hop
from app.local.lambda_events import scheduled_event
from tests.conftest import wait_until
from tests.factories import a_task
from tests.integration.test_dead_letters_and_retry import dlq_record
from tests.integration.test_handlers import Context
from workers.publisher import publish_tasks
from workers.reconciler import COUNTED, MAX_TASKS_PER_RUN, QueueWatch, reconcile

pytestmark = pytest.mark.integration
HOUR_AGO = time.time() - 3600


def stored(deployed, status: TaskStatus, **changes):
    task = dataclasses.replace(a_task(now=HOUR_AGO), status=status, **changes)
    deployed.store.add(task)
    return task


def queued_task_ids(deployed) -> list[str]:
    return [json.loads(message["body"])["task_id"] for message in deployed.receive("Task1Queue")]


def hops(deployed, task_id: str) -> list[Hop]:
    return [event.hop for event in deployed.store.events(task_id)]


@pytest.fixture(autouse=True)
def queue_urls(deployed, monkeypatch):
    """The reconciler's TASK_QUEUE_URL_PREFIX (serverless.yml), for this stage's queues."""
    monkeypatch.setenv("TASK_QUEUE_URL_PREFIX", deployed.queue_url("Task1Queue").removesuffix("task1"))


def messages_in(deployed, queue: str) -> int:
    attributes = deployed.clients["sqs"].get_queue_attributes(
        QueueUrl=deployed.queue_url(queue), AttributeNames=list(COUNTED)
    )["Attributes"]
    return sum(int(count) for count in attributes.values())


def publish(deployed, tasks) -> list:
    return publish_tasks(tasks, deployed.topic_arn, deployed.clients["sns"])[0]


def reconcile_at(deployed, now: float, limit: int = MAX_TASKS_PER_RUN) -> dict:
    """One run of the reconciler as its schedule runs it (RECONCILE_AFTER_SECONDS 60), at ``now``."""
    marks = QueueMarks(deployed.resources.table_name, deployed.clients["dynamodb"])
    prefix = deployed.queue_url("Task1Queue").removesuffix("task1")
    queues = QueueWatch(deployed.clients["sqs"], prefix, marks, now)
    return reconcile(
        deployed.store,
        lambda tasks: publish(deployed, tasks),
        60,
        queues,
        lambda: now,
        limit,
        remember=queues.remember,
    )


def run_schedule(monkeypatch, after_seconds: int = 60) -> dict:
    from app.settings import get_settings
    from workers.reconciler import handler

    monkeypatch.setenv("RECONCILE_AFTER_SECONDS", str(after_seconds))
    get_settings.cache_clear()
    return handler(scheduled_event("eu-west-1", "reconciler-schedule-1"), Context())


def test_a_task_never_picked_up_is_sent_to_its_workers_again(deployed, monkeypatch):
    stuck = stored(deployed, TaskStatus.CREATED)
    fresh = a_task()  # created just now: the normal path has time left
    deployed.store.add(fresh)
    assert run_schedule(monkeypatch) == {"redispatched": 1}
    assert queued_task_ids(deployed) == [stuck.id]
    again = deployed.store.get(stuck.id)
    assert (again.status, again.redispatches) == (TaskStatus.CREATED, 1)
    assert again.status_msg == "sent to its workers again (reconciler): no worker picked it up"
    assert hops(deployed, stuck.id) == [Hop.CREATED, Hop.REDISPATCHED]
    # It waits twice as long before the next send.
    assert run_schedule(monkeypatch) == {}
    assert deployed.store.get(fresh.id).redispatches == 0


def test_an_attempt_that_stopped_without_finishing_is_resumed_from_a_new_message(deployed, monkeypatch):
    from workers.tasks.task1 import handler as task1

    stopped = stored(
        deployed, TaskStatus.IN_PROGRESS, attempt=1, lease_expires=int(HOUR_AGO) + 30,
        updated_time=int(HOUR_AGO) + 1, status_msg="attempt 1 started", data={"duration_seconds": 0},
    )  # fmt: skip
    assert run_schedule(monkeypatch) == {"redispatched": 1}
    (message,) = deployed.receive("Task1Queue")
    assert task1({"Records": [message]}, Context()) == {"batchItemFailures": []}
    done = deployed.store.get(stopped.id)
    assert (done.status, done.attempt) == (TaskStatus.COMPLETED, 2)
    assert hops(deployed, stopped.id)[-4:] == [Hop.REDISPATCHED, Hop.DELIVERED, Hop.RESUMED, Hop.COMPLETED]


def test_a_task_out_of_attempts_ends_failed_saying_why(deployed, monkeypatch):
    spent = stored(
        deployed, TaskStatus.IN_PROGRESS, attempt=MAX_ATTEMPTS, lease_expires=0,
        updated_time=int(HOUR_AGO), status_msg="attempt 5 crashed: RuntimeError: boom",
    )  # fmt: skip
    assert run_schedule(monkeypatch) == {"failed": 1}
    failed = deployed.store.get(spent.id)
    assert failed.status is TaskStatus.FAILED
    assert failed.status_msg == "gave up after 5 attempt(s); last: attempt 5 crashed: RuntimeError: boom"
    assert hops(deployed, spent.id)[-1] is Hop.FAILED
    assert queued_task_ids(deployed) == []


def test_a_task_an_attempt_holds_is_left_to_it(deployed, monkeypatch):
    held = stored(
        deployed, TaskStatus.IN_PROGRESS, attempt=1, lease_expires=int(time.time()) + 300,
        updated_time=int(HOUR_AGO),
    )  # fmt: skip
    assert run_schedule(monkeypatch) == {}
    assert deployed.store.get(held.id) == held


def test_a_run_short_of_time_leaves_the_rest_for_the_next(deployed, monkeypatch):
    from app.settings import get_settings
    from workers.reconciler import MARGIN_SECONDS, handler

    stuck = [stored(deployed, TaskStatus.CREATED) for _ in range(3)]
    remaining_ms = iter([60_000, (MARGIN_SECONDS - 1) * 1000])

    class Ending(Context):
        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return next(remaining_ms)

    monkeypatch.setenv("RECONCILE_AFTER_SECONDS", "60")
    get_settings.cache_clear()
    assert handler(scheduled_event("eu-west-1", "reconciler-schedule-1"), Ending()) == {
        "redispatched": 1,
        "left": 2,
    }
    assert run_schedule(monkeypatch) == {"redispatched": 2}
    assert sorted(queued_task_ids(deployed)) == sorted(task.id for task in stuck)


def test_the_tasks_of_stream_records_the_publisher_gave_up_on_are_sent_again(deployed, monkeypatch):
    from workers.reconciler import handler

    task = a_task()
    deployed.store.add(task)
    (record,) = [
        r for r in deployed.stream_records() if r["dynamodb"]["Keys"]["pk"]["S"] == f"TASK#{task.id}"
    ]
    shard = deployed.clients["dynamodbstreams"].describe_stream(StreamArn=deployed.resources.stream_arn)
    sequence = record["dynamodb"]["SequenceNumber"]
    failure = {  # the shape of Lambda's on-failure record for a stream event source
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 6},
        "DDBStreamBatchInfo": {
            "shardId": shard["StreamDescription"]["Shards"][0]["ShardId"],
            "startSequenceNumber": sequence,
            "endSequenceNumber": sequence,
            "batchSize": 1,
            "streamArn": deployed.resources.stream_arn,
        },
    }
    response = handler({"Records": [dlq_record(json.dumps(failure), "failure-1")]}, Context())
    assert response == {"batchItemFailures": []}
    assert queued_task_ids(deployed) == [task.id]
    assert deployed.store.get(task.id).redispatches == 1
    assert hops(deployed, task.id) == [Hop.CREATED, Hop.REDISPATCHED]


def dead_letter(deployed, task) -> dict:
    from workers.dead_letters import handler

    body = json.dumps({"task_id": task.id, "task_type": task.task_type})
    return handler({"Records": [dlq_record(body, f"dl-{task.id}")]}, Context())


def test_a_dead_letter_never_fails_a_task_whose_lease_is_live(deployed):
    held = stored(deployed, TaskStatus.IN_PROGRESS, attempt=2, lease_expires=int(time.time()) + 300)
    assert dead_letter(deployed, held) == {"batchItemFailures": []}
    assert deployed.store.get(held.id).status is TaskStatus.IN_PROGRESS
    assert hops(deployed, held.id) == [Hop.CREATED, Hop.DEAD_LETTERED]


def test_a_dead_letter_sends_again_a_task_with_attempts_left_and_fails_one_without(deployed):
    short = stored(deployed, TaskStatus.IN_PROGRESS, attempt=2, lease_expires=0, status_msg="busy twice")
    spent = stored(deployed, TaskStatus.IN_PROGRESS, attempt=MAX_ATTEMPTS, lease_expires=0)
    dead_letter(deployed, short)
    dead_letter(deployed, spent)
    assert deployed.store.get(short.id).redispatches == 1
    assert queued_task_ids(deployed) == [short.id]
    assert deployed.store.get(spent.id).status is TaskStatus.FAILED
    assert hops(deployed, spent.id)[-2:] == [Hop.DEAD_LETTERED, Hop.FAILED]


LONG_QUEUE = 200


def test_a_long_queue_is_left_to_its_messages_and_a_purged_one_is_sent_again_once(deployed):
    waiting = [stored(deployed, TaskStatus.CREATED) for _ in range(LONG_QUEUE)]
    assert len(publish(deployed, waiting)) == LONG_QUEUE  # queued behind slow runs, an hour ago
    assert reconcile_at(deployed, time.time()) == {}
    assert messages_in(deployed, "Task1Queue") == LONG_QUEUE
    assert all(deployed.store.get(task.id).redispatches == 0 for task in waiting[:5])

    deployed.clients["sqs"].purge_queue(QueueUrl=deployed.queue_url("Task1Queue"))  # their messages lost
    now = time.time()
    # A run short of room sends some; the next still knows the rest lost, though the queue holds messages.
    assert reconcile_at(deployed, now, limit=50) == {"redispatched": 50}
    assert reconcile_at(deployed, now + 1) == {"redispatched": LONG_QUEUE - 50}
    assert messages_in(deployed, "Task1Queue") == LONG_QUEUE
    assert reconcile_at(deployed, now + 3600) == {}  # one message each, however long they wait
    assert {deployed.store.get(task.id).redispatches for task in waiting} == {1}


def test_a_message_kept_past_the_queue_retention_is_sent_again(deployed):
    task = stored(deployed, TaskStatus.CREATED)
    publish(deployed, [task])
    assert reconcile_at(deployed, time.time() + 3 * 24 * 3600) == {}
    assert reconcile_at(deployed, time.time() + 5 * 24 * 3600) == {"redispatched": 1}  # SQS dropped it


def test_a_crash_looping_task_reaches_the_dlq_after_exactly_its_attempts_never_sent_again(
    deployed, monkeypatch
):
    """Between attempts its message is hidden until its backoff ends: the reconciler, however late
    it looks, leaves it there; after maxReceiveCount crashed runs SQS moves it to the DLQ."""
    from app.settings import get_settings
    from workers.dead_letters import handler as dead_letters
    from workers.tasks.flaky import handler as flaky

    monkeypatch.setenv("RETRY_DELAYS", "1")
    get_settings.cache_clear()
    task = a_task("FLAKY", {"crash_attempts": 99})
    deployed.store.add(task)
    publish(deployed, [task])
    runs = 0
    while True:
        records = wait_until(
            lambda: deployed.receive("FlakyQueue") or deployed.receive("FlakyDeadLetterQueue"),
            timeout=15,
            what="the task's message, back after its backoff or in the DLQ",
        )
        if records[0]["eventSourceARN"].endswith("-dlq"):
            assert dead_letters({"Records": records}, Context()) == {"batchItemFailures": []}
            break
        with pytest.raises(BatchProcessingError):  # the run crashed: the message comes back
            flaky({"Records": records}, Context())
        runs += 1
        # An hour later by its clock: long stood still, yet its message is in the queue.
        assert reconcile_at(deployed, time.time() + 3600) == {}
    failed = deployed.store.get(task.id)
    max_receives = deployed.topology.queues["FlakyQueue"].max_receive_count
    assert runs == failed.attempt == max_receives
    assert failed.status is TaskStatus.FAILED
    assert Hop.REDISPATCHED not in hops(deployed, task.id)
    assert hops(deployed, task.id)[-2:] == [Hop.DEAD_LETTERED, Hop.FAILED]


def test_an_attempt_between_tries_whose_message_is_hidden_is_not_sent_again(deployed):
    task = stored(deployed, TaskStatus.CREATED)
    publish(deployed, [task])
    (record,) = deployed.receive("Task1Queue")  # in flight, hidden as a crashed attempt's is
    deployed.clients["sqs"].change_message_visibility(
        QueueUrl=deployed.queue_url("Task1Queue"),
        ReceiptHandle=record["receiptHandle"],
        VisibilityTimeout=600,
    )
    crashed = dataclasses.replace(
        task, status=TaskStatus.IN_PROGRESS, attempt=1, lease_expires=0, retry_at=int(HOUR_AGO) + 60
    )
    deployed.store.replace_if(crashed, expected=task)
    assert reconcile_at(deployed, time.time()) == {}
    assert deployed.store.get(task.id).redispatches == 0
