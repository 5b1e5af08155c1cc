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
COUNTED = ("created", "completed", "failed", "cancelled")


@dataclass(frozen=True)
class Line:
    name: str  # created, completed, failed or cancelled: its CSS class
    points: str  # the polyline's "x,y x,y ..."
    total: int


@dataclass(frozen=True)
class RateChart:
    lines: list[Line]
    # The top of the scale: the largest count in one minute (or hour), at least 1.
    top: int
    bottom_y: int = PLOT_BOTTOM
    top_y: int = PLOT_TOP
    left_x: int = PLOT_LEFT
    right_x: int = PLOT_RIGHT


def rate_chart(counts: dict[str, list[int]]) -> RateChart:
    """One polyline per count (oldest point first), on one scale from 0 to the largest count."""
    top = max((value for name in COUNTED for value in counts.get(name, [])), default=0) or 1
    lines = []
    for name in COUNTED:
        values = counts.get(name, [])
        step = (PLOT_RIGHT - PLOT_LEFT) / max(1, len(values) - 1)
        scale = (PLOT_BOTTOM - PLOT_TOP) / top
        points = " ".join(
            f"{round(PLOT_LEFT + index * step, 1)},{round(PLOT_BOTTOM - value * scale, 1)}"
            for index, value in enumerate(values)
        )
        lines.append(Line(name, points, sum(values)))
    return RateChart(lines, top)
