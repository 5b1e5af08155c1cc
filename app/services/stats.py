"""The stats view: per task type, the last hour minute by minute and the last day hour by hour.

Everything comes from the per-minute and per-hour aggregates the changes
function keeps from the table's stream (app/domain/aggregates.py): a page
reads one item per type, minute and hour shown (2 x (60 + 24) keys with two
types, in two BatchGetItem requests), never a task. No AWS here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from app.domain.aggregates import BUCKET_BOUNDS_MS, MinuteStats, percentile
from app.services.ports import Clock
from app.task_registry import names as task_type_names


@dataclass(frozen=True)
class Window:
    name: str
    title: str
    unit: str  # "M" (minutes) or "H" (hours): the aggregates' own units
    step: int  # seconds per point
    points: int


HOUR = Window("hour", "Last hour, per minute", "M", 60, 60)
DAY = Window("day", "Last 24 hours, per hour", "H", 3600, 24)
WINDOWS = (HOUR, DAY)

# (task type, unit, first moment, last moment), epoch seconds
SeriesRequest = tuple[str, str, int, int]


class StatsReader(Protocol):
    def series_many(self, requests: list[SeriesRequest]) -> dict[tuple[str, str], dict[int, MinuteStats]]:
        """Each request's stats per minute or hour, every moment present (empty ones zero): one read."""
        ...


@dataclass(frozen=True)
class Percentiles:
    """Upper bounds (ms) of the histogram buckets holding the median and the 95th percentile."""

    p50: int | None
    p95: int | None

    @classmethod
    def of(cls, histogram: dict[int, int]) -> Percentiles:
        from collections import Counter

        counted = Counter(histogram)
        return cls(percentile(counted, 0.5), percentile(counted, 0.95))


@dataclass(frozen=True)
class Series:
    window: Window
    # Oldest first: (moment, its stats), every moment of the window.
    points: list[tuple[int, MinuteStats]]

    def counts(self) -> dict[str, list[int]]:
        """Each count (created, completed, failed, cancelled) per point, oldest first: the chart's lines."""
        names = ("created", "completed", "failed", "cancelled")
        return {name: [getattr(stats, name) for _, stats in self.points] for name in names}

    @property
    def total(self) -> MinuteStats:
        total = MinuteStats()
        for _, stats in self.points:
            total.add(stats)
        return total

    @property
    def failure_rate(self) -> float | None:
        """Failed of the tasks that finished with a result, COMPLETED or FAILED (cancelled ones aside)."""
        total = self.total
        finished = total.completed + total.failed
        return total.failed / finished if finished else None

    @property
    def queue_wait(self) -> Percentiles:
        return Percentiles.of(self.total.wait)

    @property
    def run_time(self) -> Percentiles:
        return Percentiles.of(self.total.run)


@dataclass(frozen=True)
class TypeStats:
    task_type: str
    series: list[Series]


def window_bounds(window: Window, now: float) -> tuple[int, int]:
    """The first and last moment of ``window`` ending with the minute (or hour) ``now`` is in."""
    last = int(now) // window.step * window.step
    return last - (window.points - 1) * window.step, last


def stats(reader: StatsReader, clock: Clock = time.time) -> list[TypeStats]:
    """Every task type's series over every window, read together."""
    now = clock()
    requests = [
        (task_type, window.unit, *window_bounds(window, now))
        for task_type in task_type_names()
        for window in WINDOWS
    ]
    read = reader.series_many(requests)
    result = []
    for task_type in task_type_names():
        series = []
        for window in WINDOWS:
            found = read.get((task_type, window.unit), {})
            first, last = window_bounds(window, now)
            moments = range(first, last + window.step, window.step)
            series.append(Series(window, [(moment, found.get(moment, MinuteStats())) for moment in moments]))
        result.append(TypeStats(task_type, series))
    return result


def latency_text(milliseconds: int | None) -> str:
    """A percentile as the page says it: the histogram bucket's upper bound ("≤ 500 ms")."""
    if milliseconds is None:
        return "—"
    if milliseconds > BUCKET_BOUNDS_MS[-1]:
        return f"> {BUCKET_BOUNDS_MS[-1] // 60_000} min"
    if milliseconds < 1000:
        return f"≤ {milliseconds} ms"
    if milliseconds < 60_000:
        return f"≤ {milliseconds // 1000} s"
    return f"≤ {milliseconds // 60_000} min"
