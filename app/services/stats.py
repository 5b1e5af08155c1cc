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

from app.domain.aggregates import MinuteStats, percentile
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


# The failure messages shown per type: the most frequent of the window.
TOP_FAILURES = 5


@dataclass(frozen=True)
class Percentiles:
    """The median and the 95th percentile (ms), each within 5 % of the true one (app/domain/aggregates.py)."""

    p50: float | None
    p95: float | None

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

    def labels(self) -> list[str]:
        """Each point's moment, as its tooltip names it (UTC)."""
        pattern = "%H:%M UTC" if self.window.unit == "M" else "%d %b %H:00 UTC"
        return [time.strftime(pattern, time.gmtime(moment)) for moment, _ in self.points]

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

    def top_failures(self, count: int = TOP_FAILURES) -> list[tuple[str, int]]:
        """The most frequent failure messages of the window (kept per hour), most frequent first."""
        return sorted(self.total.failures.items(), key=lambda item: (-item[1], item[0]))[:count]


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


def latency_text(milliseconds: float | None) -> str:
    """A percentile as the page says it: about so many ms, s or min, to three significant figures."""
    if milliseconds is None:
        return "—"
    if milliseconds < 1:
        return "< 1 ms"
    if milliseconds < 1000:
        return f"≈ {_figures(milliseconds)} ms"
    if milliseconds < 60_000:
        return f"≈ {_figures(milliseconds / 1000)} s"
    return f"≈ {_figures(milliseconds / 60_000)} min"


def _figures(value: float) -> str:
    return str(round(value)) if value >= 99.95 else f"{value:.3g}"
