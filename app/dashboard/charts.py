"""The timeline chart's geometry: each hop a bar from the hop before it to its own, on one scale.

Drawn as SVG rectangles sized by attributes, because the CSP allows no inline
style; the numbers are in the viewBox's units, so the chart scales with its box.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.timeline import TimelineStep

WIDTH = 1000
# Thin enough to read as a moment, wide enough to see (a zero gap is a tick).
MIN_WIDTH = 4


@dataclass(frozen=True)
class Bar:
    step: TimelineStep
    x: int
    width: int
    # Milliseconds since the task was created where the bar starts.
    start_ms: int


def timeline_bars(steps: list[TimelineStep]) -> list[Bar]:
    """One bar per step, spanning the time spent since the previous hop, scaled to the last hop."""
    span = max((step.event.since_created_ms for step in steps), default=0) or 1
    bars = []
    for step in steps:
        end = step.event.since_created_ms
        start = max(0, end - step.gap_ms)
        width = max(MIN_WIDTH, round((end - start) * WIDTH / span))
        x = min(round(start * WIDTH / span), WIDTH - width)
        bars.append(Bar(step, x, width, start))
    return bars


# --- the stats page's charts --------------------------------------------------------------------

# The plot inside the viewBox (0 0 CHART_WIDTH CHART_HEIGHT): room on the left for the scale.
CHART_WIDTH, CHART_HEIGHT = 600, 150
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 36, 592, 8, 128
# Two charts per window, each on its own scale: a handful of failures must not sit on the
# axis of a chart scaled to thousands of creations.
THROUGHPUT = ("created", "completed")
FAILURES = ("failed", "cancelled")


@dataclass(frozen=True)
class Line:
    name: str  # created, completed, failed or cancelled: its CSS class
    points: str  # the polyline's "x,y x,y ..."
    total: int


@dataclass(frozen=True)
class Slot:
    """A point's column, the full height of the plot: hovering it shows the point's values."""

    x: float
    width: float
    title: str


@dataclass(frozen=True)
class RateChart:
    lines: list[Line]
    # The top of the scale: the largest count in one minute (or hour), at least 1.
    top: int
    slots: list[Slot]
    bottom_y: int = PLOT_BOTTOM
    top_y: int = PLOT_TOP
    left_x: int = PLOT_LEFT
    right_x: int = PLOT_RIGHT


def rate_chart(
    counts: dict[str, list[int]], names: tuple[str, ...], labels: list[str] | None = None
) -> RateChart:
    """One polyline per count in ``names`` (oldest point first), on one scale from 0 to the largest;
    each point's column carries its values as a tooltip, ``labels`` naming the points."""
    top = max((value for name in names for value in counts.get(name, [])), default=0) or 1
    points = max((len(counts.get(name, [])) for name in names), default=0)
    step = (PLOT_RIGHT - PLOT_LEFT) / max(1, points - 1)
    scale = (PLOT_BOTTOM - PLOT_TOP) / top
    lines = []
    for name in names:
        values = counts.get(name, [])
        line = " ".join(
            f"{round(PLOT_LEFT + index * step, 1)},{round(PLOT_BOTTOM - value * scale, 1)}"
            for index, value in enumerate(values)
        )
        lines.append(Line(name, line, sum(values)))
    slots = []
    for index in range(points):
        label = labels[index] if labels and index < len(labels) else f"point {index + 1}"
        values = ", ".join(f"{_at(counts.get(name, []), index)} {name}" for name in names)
        left = max(PLOT_LEFT, PLOT_LEFT + (index - 0.5) * step)
        right = min(PLOT_RIGHT, PLOT_LEFT + (index + 0.5) * step)
        slots.append(Slot(round(left, 1), round(right - left, 1), f"{label}: {values}"))
    return RateChart(lines, top, slots)


def _at(values: list[int], index: int) -> int:
    return values[index] if index < len(values) else 0
