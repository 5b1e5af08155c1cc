"""The task page's timeline: the chart's geometry, durations in words, and when the page stops following."""

from __future__ import annotations

import pytest

from app.dashboard.charts import MIN_WIDTH, WIDTH, timeline_bars
from app.dashboard.fragments import duration, iso_ms, utc_ms
from app.domain.task import TaskStatus
from app.domain.timeline import Hop, TaskEvent, steps
from app.services.dashboard import TIMELINE_GRACE_SECONDS, still_changing
from tests.factories import a_task

CREATED_MS = 1_800_000_000_000


def an_event(hop: Hop, after_ms: int, status: str | None = None) -> TaskEvent:
    return TaskEvent("t", hop, CREATED_MS + after_ms, after_ms, "test", status=status)


def test_each_bar_spans_the_gap_before_its_hop_on_the_scale_of_the_whole_timeline():
    events = [an_event(Hop.CREATED, 0), an_event(Hop.STARTED, 500), an_event(Hop.COMPLETED, 2000)]
    bars = timeline_bars(steps(events))
    assert [(bar.x, bar.width) for bar in bars] == [(0, MIN_WIDTH), (0, 250), (250, 750)]
    assert bars[-1].x + bars[-1].width == WIDTH


def test_a_zero_gap_is_a_visible_tick_inside_the_chart():
    events = [an_event(Hop.CREATED, 0), an_event(Hop.COMPLETED, 1000), an_event(Hop.RETRIED, 1000)]
    last = timeline_bars(steps(events))[-1]
    assert (last.x, last.width) == (WIDTH - MIN_WIDTH, MIN_WIDTH)


def test_one_event_or_none():
    assert timeline_bars([]) == []
    (only,) = timeline_bars(steps([an_event(Hop.CREATED, 0)]))
    assert (only.x, only.width) == (0, MIN_WIDTH)


@pytest.mark.parametrize(
    ("ms", "words"),
    [(0, "0 ms"), (999, "999 ms"), (1000, "1.0 s"), (12_345, "12.3 s"), (59_960, "1 min 0 s"),
     (185_000, "3 min 5 s"), (7_800_000, "2 h 10 min")],
)  # fmt: skip
def test_durations_in_words(ms, words):
    assert duration(ms) == words


def test_exact_times_to_the_millisecond():
    assert utc_ms(1_800_000_000_123) == "2027-01-15 08:00:00.123 UTC"
    assert iso_ms(1_800_000_000_005) == "2027-01-15T08:00:00.005Z"


def test_the_page_follows_a_task_in_flight():
    assert still_changing(a_task(), [], now=0)


def test_the_page_stops_once_the_timeline_has_the_finished_status():
    task = a_task(now=1000).moved_to(TaskStatus.COMPLETED, "done", 1003)
    events = [
        an_event(Hop.STARTED, 1000, "IN_PROGRESS"),
        an_event(Hop.COMPLETED, 3000, "COMPLETED"),
        an_event(Hop.DEAD_LETTERED, 3000),  # no status of its own: does not count
    ]
    assert not still_changing(task, events, now=1003)


def test_a_finished_task_is_followed_until_its_last_event_arrives_or_the_grace_runs_out():
    task = a_task(now=1000).moved_to(TaskStatus.FAILED, "gave up", 1003)
    events = [an_event(Hop.PROGRESS, 1000, "IN_PROGRESS")]
    assert still_changing(task, events, now=1004)
    assert not still_changing(task, events, now=1003 + TIMELINE_GRACE_SECONDS)
    assert not still_changing(task, [], now=1003 + TIMELINE_GRACE_SECONDS)
