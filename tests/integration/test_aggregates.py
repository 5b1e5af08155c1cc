"""Task counts and statistics kept by the changes function: exact, once, whatever Lambda redelivers."""

from __future__ import annotations

import dataclasses
import time

import pytest

from app.adapters.aggregates import TaskAggregates
from app.domain.task import TaskStatus
from tests.factories import a_task
from tests.integration.conftest import provision_stage
from workers.changes import apply_changes, chunks

pytestmark = pytest.mark.integration


@pytest.fixture
def stage(emulator_endpoint):
    return provision_stage(emulator_endpoint)


def aggregates_of(stage, counter_shards: int = 1) -> TaskAggregates:
    return TaskAggregates(
        stage.resources.table_name, stage.clients["dynamodb"], counter_shards=counter_shards
    )


def task_records(stage) -> list[dict]:
    return [r for r in stage.stream_records() if r["dynamodb"]["Keys"]["sk"]["S"] == "TASK"]


def run_lives(stage, count: int) -> None:
    """``count`` tasks: a third left CREATED, a third COMPLETED, a third FAILED."""
    for number in range(count):
        task = a_task("TASK1" if number % 2 else "TASK2")
        stage.store.add(task)
        if number % 3 == 0:
            continue
        running = task.moved_to(TaskStatus.IN_PROGRESS, "", time.time())
        stage.store.replace_if(running, expected=task)
        final = TaskStatus.COMPLETED if number % 3 == 1 else TaskStatus.FAILED
        stage.store.replace_if(running.moved_to(final, "", time.time()), expected=running)


def test_counts_are_exact_and_a_batch_delivered_again_changes_nothing(stage):
    run_lives(stage, 30)
    aggregates = aggregates_of(stage)
    records = task_records(stage)
    assert apply_changes(records, aggregates, time.time()) == {"applied": len(records), "skipped": 0}
    expected = {"CREATED": 10, "IN_PROGRESS": 0, "COMPLETED": 10, "FAILED": 10}
    counted, created = aggregates.counts()
    assert {status: counted[status] for status in expected} == expected and created == 30
    # Lambda delivers the same batch again, then a longer one from the same record.
    assert apply_changes(records, aggregates, time.time()) == {"applied": 0, "skipped": len(records)}
    later = a_task("TASK1")
    stage.store.add(later)
    grown = task_records(stage)
    assert apply_changes(grown, aggregates, time.time()) == {"applied": 1, "skipped": len(records)}
    assert aggregates.counts()[0]["CREATED"] == 11


def test_counts_of_one_type_and_spread_over_several_items(stage):
    run_lives(stage, 12)
    aggregates = aggregates_of(stage, counter_shards=3)
    records = task_records(stage)
    for start in range(0, len(records), 5):  # batches land on different count items
        apply_changes(records[start : start + 5], aggregates, time.time())
    counts = {count.status: count.count for count in aggregates.by_status("TASK2")}
    assert counts[TaskStatus.CREATED] == 2 and counts[TaskStatus.COMPLETED] == 2
    assert sum(aggregates.counts()[0].values()) == 12


def test_a_batch_that_needs_more_items_than_a_transaction_takes_is_cut_where_it_is_safe(stage):
    # Tasks created over 120 distinct minutes: 240 statistics items, more than one transaction takes.
    now = time.time()
    for minute in range(120):
        stage.store.add(a_task("TASK1", now=now - 7200 + minute * 60))
    records = task_records(stage)
    pieces = chunks(records)
    assert len(pieces) > 1 and sum(len(piece) for piece in pieces) == len(records)
    assert chunks(records) == pieces  # cut the same way every time it is delivered
    aggregates = aggregates_of(stage)
    assert apply_changes(records, aggregates, time.time())["applied"] == 120
    series = aggregates.series("TASK1", "H", int(now) - 7200, int(now))
    assert sum(stats.created for stats in series.values()) == 120


def test_minutes_hold_what_happened_in_them(stage):
    task = a_task("TASK2")
    stage.store.add(task)
    started = dataclasses.replace(
        task.moved_to(TaskStatus.IN_PROGRESS, "", time.time()), started_ms=task.created_ms + 250
    )
    stage.store.replace_if(started, expected=task)
    done = dataclasses.replace(
        started.moved_to(TaskStatus.COMPLETED, "", time.time()), finished_ms=task.created_ms + 1250
    )
    stage.store.replace_if(done, expected=started)
    aggregates = aggregates_of(stage)
    apply_changes(task_records(stage), aggregates, time.time())
    series = aggregates.series("TASK2", "M", task.created_time - 60, task.created_time + 60)
    assert sum(stats.created for stats in series.values()) == 1
    assert sum(stats.completed for stats in series.values()) == 1
    assert sum(sum(stats.wait.values()) for stats in series.values()) == 1


def test_failure_messages_and_latencies_are_kept_per_hour_and_read_back(stage):
    """The stats page's top failure messages and percentiles, written by the changes function."""
    from app.services import stats

    now = time.time()
    for number in range(7):
        task = a_task("TASK2")
        stage.store.add(task)
        running = task.moved_to(TaskStatus.IN_PROGRESS, "", now)
        stage.store.replace_if(running, expected=task)
        message = f"upstream answered {500 + number % 2} after {number} s" if number < 5 else "bad data"
        stage.store.replace_if(running.moved_to(TaskStatus.FAILED, message, now), expected=running)
    aggregates = aggregates_of(stage)
    apply_changes(task_records(stage), aggregates, now)
    (task2,) = [t for t in stats.stats(aggregates, clock=lambda: now) if t.task_type == "TASK2"]
    hour, day = task2.series
    assert day.top_failures() == [
        ("upstream answered 500 after N s", 3),
        ("bad data", 2),
        ("upstream answered 501 after N s", 2),
    ]
    assert day.total.failed == hour.total.failed == 7
    # Minute items carry counts and latencies only; the messages are on the hour's item.
    assert hour.top_failures() == []
