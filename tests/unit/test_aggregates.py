"""Counts and per-minute statistics as deltas of task changes: the pure rules."""

from collections import Counter

from app.domain.aggregates import (
    BUCKET_BOUNDS_MS,
    TaskChange,
    TaskFacts,
    bucket_of,
    deltas_of,
    percentile,
)

MINUTE = 1_800_000_000_000 // 60_000 * 60_000


def facts(status: str, **times: int) -> TaskFacts:
    return TaskFacts("TASK1", status, created_ms=MINUTE + 1_000, **times)


def test_a_task_s_life_moves_one_count_along_and_records_its_minute():
    created = facts("CREATED")
    started = facts("IN_PROGRESS", started_ms=MINUTE + 1_150)
    done = facts("COMPLETED", started_ms=MINUTE + 1_150, finished_ms=MINUTE + 61_150)
    deltas = deltas_of(
        [
            TaskChange(None, created),
            TaskChange(created, started),
            TaskChange(started, started),  # progress: no status change, nothing counted
            TaskChange(started, done),
        ]
    )
    assert deltas.counts == Counter({("TASK1", "COMPLETED"): 1})
    assert deltas.created == Counter({"TASK1": 1})
    first, second = MINUTE // 1000, MINUTE // 1000 + 60
    assert deltas.minutes[("TASK1", first)].created == 1
    assert deltas.minutes[("TASK1", first)].wait == Counter({bucket_of(150): 1})
    assert deltas.minutes[("TASK1", second)].completed == 1
    assert deltas.minutes[("TASK1", second)].run == Counter({bucket_of(60_000): 1})


def test_a_task_removed_by_ttl_leaves_its_status_count():
    assert deltas_of([TaskChange(facts("FAILED", finished_ms=MINUTE), None)]).counts == Counter(
        {("TASK1", "FAILED"): -1}
    )


def test_cancelled_tasks_are_counted_without_a_run_time():
    deltas = deltas_of(
        [TaskChange(facts("IN_PROGRESS", started_ms=MINUTE), facts("CANCELLED", started_ms=MINUTE))]
    )
    (minute,) = deltas.minutes.values()
    assert (minute.cancelled, sum(minute.run.values())) == (1, 0)


def test_buckets_and_percentiles():
    assert bucket_of(0) == 0 and bucket_of(10) == 0 and bucket_of(11) == 1
    assert bucket_of(10**9) == len(BUCKET_BOUNDS_MS)
    histogram = Counter({bucket_of(15): 90, bucket_of(900): 10})
    assert percentile(histogram, 0.5) == 20
    assert percentile(histogram, 0.95) == 1_000
    assert percentile(Counter(), 0.5) is None
