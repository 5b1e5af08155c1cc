"""Counts and per-minute statistics as deltas of task changes: the pure rules."""

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.aggregates import (
    TaskChange,
    TaskFacts,
    bucket_of,
    deltas_of,
    failure_message_of,
    percentile,
)

MINUTE = 1_800_000_000_000 // 60_000 * 60_000


def facts(status: str, **times) -> TaskFacts:
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
    assert bucket_of(0) == 0 and bucket_of(0.5) == 0 and bucket_of(1) == 1
    assert bucket_of(10**9) > bucket_of(10**8) > bucket_of(3_600_000)
    histogram = Counter({bucket_of(15): 90, bucket_of(900): 10})
    assert percentile(histogram, 0.5) == pytest.approx(15, rel=0.05)
    assert percentile(histogram, 0.95) == pytest.approx(900, rel=0.05)
    assert percentile(Counter(), 0.5) is None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(min_value=1, max_value=7 * 86_400_000), min_size=1, max_size=300),
    st.sampled_from([0.5, 0.9, 0.95, 0.99]),
)
def test_a_percentile_from_the_histogram_is_within_5_percent_of_the_true_one(values, share):
    """Nearest rank, as the page's p50 and p95: the histogram's answer is its bucket's middle."""
    true = sorted(values)[max(1, math.ceil(share * len(values))) - 1]
    estimate = percentile(Counter(bucket_of(value) for value in values), share)
    assert estimate == pytest.approx(true, rel=0.05)


def test_failures_are_counted_by_the_shape_of_their_message():
    assert failure_message_of("data.duration_seconds must be between 0 and 20") == (
        "data.duration_seconds must be between N and N"
    )
    assert (
        failure_message_of(
            "gave up after 5 attempt(s); last: task 0b6f3f8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b crashed"
        )
        == "gave up after N attempt(s); last: task <id> crashed"
    )
    assert failure_message_of("") == "(no message)" and len(failure_message_of("x" * 500)) == 100
    # An HTTP status is the reason itself: it stays.
    assert failure_message_of("upstream answered 503 after 12.5 s") == "upstream answered 503 after N s"
    assert failure_message_of("took 1200 ms, 600 rows") == "took N ms, N rows"
    deltas = deltas_of(
        [
            TaskChange(
                facts("IN_PROGRESS", started_ms=MINUTE), facts("FAILED", started_ms=MINUTE, status_msg=m)
            )
            for m in ("timeout after 3 s", "timeout after 4 s", "refused")
        ]
    )
    (minute,) = deltas.minutes.values()
    assert minute.failures == Counter({"timeout after N s": 2, "refused": 1})
