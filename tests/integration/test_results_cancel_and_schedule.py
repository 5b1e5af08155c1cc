"""Workers against the emulator: results, cancel requests, crash details; the scheduler and its index."""

import itertools
import time

import pytest

from app.domain.messages import TaskMessage
from app.domain.task import TaskStatus, new_task
from app.local.filter_patterns import matches_any
from app.services import recovery, scheduler, tasks
from tests.factories import FAR_FUTURE, a_task
from tests.integration.conftest import provision_stage
from workers.consumer import TaskCancelled, TaskOutcome, process_message
from workers.reconciler import task_ids_in_stream_range
from workers.tasks import task1, task2


@pytest.fixture
def fresh(emulator_endpoint):
    return provision_stage(emulator_endpoint)


def run_to_end(store, task, run, **options):
    return process_message(store, TaskMessage(task.id, task.task_type), run, lease_seconds=30, **options)


def added(store, task):
    store.add(task)
    return task


# --- results -----------------------------------------------------------------------------------


def test_each_task_type_returns_its_result(provisioned):
    store = provisioned.store
    sleeper = added(store, a_task("TASK1", {"duration_seconds": 0}))
    counter = added(store, a_task("TASK2", {"text": "to be or not"}))
    assert run_to_end(store, sleeper, task1.run) == "completed"
    assert run_to_end(store, counter, task2.run) == "completed"
    assert (store.get(sleeper.id).result, store.get(sleeper.id).status_msg) == (
        {"slept_seconds": 0},
        "done in 0 s",
    )
    assert (store.get(counter.id).result, store.get(counter.id).status_msg) == (
        {"words": 4},
        "counted 4 words",
    )


def test_a_result_too_big_or_not_json_ends_the_task_failed_saying_why(provisioned):
    store = provisioned.store
    big = added(store, a_task())
    assert (
        run_to_end(store, big, lambda run: TaskOutcome("done", "x" * 200), max_result_bytes=100) == "failed"
    )
    failed = store.get(big.id)
    assert failed.status is TaskStatus.FAILED and failed.result is None
    assert failed.status_msg == "result refused: the result is 202 bytes as JSON; the limit is 100 bytes"

    odd = added(store, a_task())
    assert run_to_end(store, odd, lambda run: TaskOutcome("done", {"when": object()})) == "failed"
    assert store.get(odd.id).status_msg.startswith("result refused: the result is not standard JSON")

    plain = added(store, a_task())
    assert run_to_end(store, plain, lambda run: "a sentence") == "failed"
    assert store.get(plain.id).status_msg == "the worker returned a str, not a TaskOutcome"


def test_any_json_value_is_a_result_and_reads_back_exactly(provisioned):
    store = provisioned.store
    for value in ([1, 2.5, "three", None, True], "text", 0, {"nested": {"deep": [{"a": "é"}]}}):
        task = added(store, a_task())
        run_to_end(store, task, lambda run, value=value: TaskOutcome("done", value))
        assert store.get(task.id).result == value


def test_a_crash_event_carries_the_exception_and_its_stack(provisioned):
    store = provisioned.store
    task = added(store, a_task())

    def crashing(run):
        raise ZeroDivisionError("division by zero in step 3")

    with pytest.raises(ZeroDivisionError):
        run_to_end(store, task, crashing)
    (crash,) = [e for e in store.events(task.id) if e.hop.value == "crashed"]
    assert crash.error.type == "ZeroDivisionError" and crash.error.message == "division by zero in step 3"
    assert "in crashing" in crash.error.stack and crash.error.stack.rstrip().endswith("step 3")
    assert crash.to_public()["error"]["type"] == "ZeroDivisionError"


# --- cancel while running ----------------------------------------------------------------------


def test_a_task_that_would_end_after_its_cancel_ends_cancelled_and_drops_its_result(provisioned):
    store = provisioned.store
    task = added(store, a_task())

    def cancelled_meanwhile(run):
        tasks.cancel_task(store, task.id, "dashboard user admin", source="dashboard")
        return TaskOutcome("done", {"answer": 42})

    assert run_to_end(store, task, cancelled_meanwhile) == "cancelled"
    final = store.get(task.id)
    assert (final.status, final.result, final.status_msg) == (
        TaskStatus.CANCELLED, None, "cancelled by dashboard user admin",
    )  # fmt: skip
    assert [e.hop.value for e in store.events(task.id)][-1] == "cancelled"


def test_a_task_can_ask_whether_its_cancel_was_requested(provisioned):
    store = provisioned.store
    task = added(store, a_task())

    def polite(run):
        assert not run.cancel_requested()
        tasks.cancel_task(store, task.id, "api key 0000aaaa")
        assert run.cancel_requested()
        raise TaskCancelled()

    assert run_to_end(store, task, polite) == "cancelled"
    assert store.get(task.id).status is TaskStatus.CANCELLED


def test_a_crash_after_a_cancel_request_ends_cancelled_not_retried(provisioned):
    store = provisioned.store
    task = added(store, a_task())

    def crash_after_cancel(run):
        tasks.cancel_task(store, task.id, "api key 0000aaaa")
        raise RuntimeError("boom")

    assert run_to_end(store, task, crash_after_cancel) == "cancelled"
    assert store.get(task.id).status is TaskStatus.CANCELLED


def test_an_abandoned_task_asked_to_stop_ends_cancelled_by_its_next_delivery_or_by_recovery(provisioned):
    store = provisioned.store
    first = added(store, a_task())
    second = added(store, a_task())
    for task in (first, second):
        running = task.moved_to(TaskStatus.IN_PROGRESS, "", time.time(), attempt=1, lease_expires=1)
        store.replace_if(running, expected=task)
        tasks.cancel_task(store, task.id, "api key 0000aaaa")

    assert run_to_end(store, first, lambda run: TaskOutcome("should not run")) == "cancelled"
    stuck = store.get(second.id)
    assert recovery.recover(store, stuck, time.time(), lambda sent: sent, source="reconciler") == "cancelled"
    for task in (first, second):
        assert store.get(task.id).status is TaskStatus.CANCELLED


def test_an_operator_who_ends_a_running_task_stops_its_worker_quietly(provisioned):
    store = provisioned.store
    task = added(store, a_task())

    def overridden(run):
        tasks.change_status(store, task.id, TaskStatus.FAILED, "stopped by an operator")
        run.report_progress(10, "")
        raise AssertionError("not reached")

    # Each reading of the clock a second later: progress is written at most once a second.
    assert run_to_end(store, task, overridden, clock=itertools.count(time.time()).__next__) == "stopped"
    assert store.get(task.id).status_msg == "stopped by an operator"


def test_a_scheduled_or_cancelled_task_is_refused_by_the_workers_claim(provisioned):
    store = provisioned.store
    scheduled = added(store, new_task("TASK1", {}, FAR_FUTURE, time.time(), run_at=int(time.time()) + 600))
    ran = []
    assert run_to_end(store, scheduled, ran.append) == "not_due"
    cancelled = added(store, a_task())
    tasks.cancel_task(store, cancelled.id, "api key 0000aaaa")
    assert run_to_end(store, cancelled, ran.append) == "duplicate"
    assert ran == []
    assert store.get(scheduled.id).status is TaskStatus.SCHEDULED


# --- the scheduler -----------------------------------------------------------------------------


def test_due_tasks_become_created_and_go_to_the_publisher(fresh):
    store, now = fresh.store, time.time()
    due = added(store, new_task("TASK2", {"text": "a b"}, FAR_FUTURE, now - 5, run_at=int(now) - 1))
    later = added(store, new_task("TASK2", {}, FAR_FUTURE, now, run_at=int(now) + 3600))
    cancelled = added(store, new_task("TASK2", {}, FAR_FUTURE, now, run_at=int(now) - 1))
    tasks.cancel_task(store, cancelled.id, "api key 0000aaaa")

    assert scheduler.run_due(store) == {"started": 1}
    started = store.get(due.id)
    assert started.status is TaskStatus.CREATED and started.status_msg.startswith("due at ")
    assert store.get(later.id).status is TaskStatus.SCHEDULED
    assert store.get(cancelled.id).status is TaskStatus.CANCELLED
    assert [d.task_id for d in store.due(int(now) + 7200)] == [later.id]
    (event,) = [e for e in store.events(due.id) if e.hop.value == "due"]
    assert event.source == "scheduler" and event.status == "CREATED"

    # The publisher's filter lets exactly the due task's move through (not the inserts of scheduled tasks).
    publisher = next(f for f in fresh.topology.stream_functions if f.name == "publisher")
    ready = [r for r in fresh.stream_records() if matches_any(publisher.filter_patterns, r)]
    assert [(r["eventName"], r["dynamodb"]["NewImage"]["id"]["S"]) for r in ready] == [("MODIFY", due.id)]
    # And a publisher failure on that record is recovered by the reconciler from the stream.
    shard = fresh.clients["dynamodbstreams"].describe_stream(StreamArn=fresh.resources.stream_arn)
    batch = {
        "streamArn": fresh.resources.stream_arn,
        "shardId": shard["StreamDescription"]["Shards"][0]["ShardId"],
        "startSequenceNumber": ready[0]["dynamodb"]["SequenceNumber"],
        "endSequenceNumber": ready[0]["dynamodb"]["SequenceNumber"],
    }
    assert task_ids_in_stream_range(fresh.clients["dynamodbstreams"], batch) == [due.id]


def test_the_scheduler_waits_for_tasks_due_within_its_lookahead(fresh):
    store = fresh.store
    clock = [1_900_000_000.0]
    soon = added(store, new_task("TASK1", {}, FAR_FUTURE, clock[0], run_at=1_900_000_030))
    too_late = added(store, new_task("TASK1", {}, FAR_FUTURE, clock[0], run_at=1_900_000_050))
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    outcomes = scheduler.run_due(
        store,
        lookahead_seconds=60,
        seconds_left=lambda: 1_900_000_045 - clock[0],
        clock=lambda: clock[0],
        sleep=sleep,
    )
    # It waited 30 s for the first; the second would outlast the invocation: left to the next run.
    assert outcomes == {"started": 1} and waits == [30.0]
    assert store.get(soon.id).status is TaskStatus.CREATED
    assert store.get(too_late.id).status is TaskStatus.SCHEDULED
    assert "started 0 ms after" in store.get(soon.id).status_msg


def test_the_due_index_holds_scheduled_tasks_only_and_keys_only(fresh):
    store = fresh.store
    now = time.time()
    added(store, a_task())
    scheduled = added(store, new_task("TASK1", {}, FAR_FUTURE, now, run_at=int(now) + 60))
    items = fresh.clients["dynamodb"].scan(TableName=fresh.resources.table_name, IndexName="by_due")["Items"]
    assert [item["pk"]["S"] for item in items] == [f"TASK#{scheduled.id}"]
    assert set(items[0]) == {"pk", "sk", "due_pk", "due_sk"}
