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
