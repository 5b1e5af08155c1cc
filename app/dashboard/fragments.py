"""How times, spans, ids and statuses are written on the dashboard's pages: text and small fragments.

Plain functions, used as Jinja filters and globals (views.environment) and by the
task row (rows.py). The fragments are built in Python because every row repeats
them; every value in them is escaped or is a number made here. static/app.js
writes the same words when it refreshes them.
"""

from __future__ import annotations

import functools
import json
import time
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup, escape

from app.dashboard import timing
from app.domain.task import Task


def when(epoch: int | None) -> Markup:
    """A relative time ("12 s ago"), the exact UTC time on hover; static/app.js keeps both fresh."""
    if not epoch:
        return Markup('<span class="muted" title="not yet">—</span>')
    day, clock = _day_and_time(epoch)
    exact_time = f'datetime="{day}T{clock}Z" title="{day} {clock} UTC"'
    return Markup(f'<time {exact_time} data-epoch="{int(epoch)}">{ago(epoch)}</time>')


def exact(epoch: int) -> Markup:
    """The exact time, in UTC (static/app.js shows local time when asked)."""
    return Markup(f'<time datetime="{iso(epoch)}" data-exact="{int(epoch)}">{utc(epoch)}</time>')


def badge(task: Task) -> Markup:
    """The status in words, with the progress of a task in flight; a task between attempts (one
    crashed, the next waits for its backoff) says which attempt comes when, and shows no spinner."""
    if task.is_between_attempts and task.retry_at is not None:
        from app.task_registry import task_types

        declared = task_types().get(task.task_type)
        of = f" of {declared.max_attempts}" if declared else ""
        return Markup(
            f'<span class="badge badge-retrying">RETRYING</span> <span class="retry-note">attempt'
            f" {task.attempt + 1}{of}, next at {exact(task.retry_at)}</span>"
        )
    status = task.status.value
    progress = f" {int(task.progress)}%" if task.progress is not None and not task.status.is_terminal else ""
    return Markup(f'<span class="badge badge-{status.lower()}">{status}{progress}</span>')


@functools.lru_cache(maxsize=4096)
def _span(seconds: int) -> Markup:
    # A list page writes two spans a row, mostly the same few: made once (the list's 2 ms budget).
    return escape(timing.span(seconds))


def elapsed(seconds: int, since: int | None = None) -> Markup:
    """A span of time: fixed once a task finished, counting up (static/app.js) from ``since`` while not."""
    words = _span(seconds)
    if since is None:
        return words
    return Markup(f'<span class="ticking" data-since="{int(since)}" title="so far">{words}</span>')


def live_key(task: Task) -> str:
    """What an in-flight row last showed; the live poller re-sends only rows whose key changed."""
    progress = "" if task.progress is None else task.progress
    retry = f":{task.retry_at}" if task.retry_at else ""
    return f"{task.status.value}:{progress}:{task.updated_time or ''}{retry}"


def short_id(task_id: str) -> str:
    return task_id[:8]


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def thousands(value: int) -> str:
    return f"{value:,}"


def _day_and_time(epoch: float) -> tuple[str, str]:
    """'2026-11-05', '10:30:15' in UTC; f-strings, as strftime costs four times as much per row."""
    t = time.gmtime(epoch)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}", f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"


def utc(epoch: int | None) -> str:
    if epoch is None:
        return "—"
    day, clock = _day_and_time(epoch)
    return f"{day} {clock} UTC"


def iso(epoch: int) -> str:
    day, clock = _day_and_time(epoch)
    return f"{day}T{clock}Z"


def utc_ms(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def iso_ms(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def duration(ms: int) -> str:
    """'850 ms', '1.2 s', '3 min 5 s', '2 h 10 min': a time span as a person reads it."""
    if ms < 1000:
        return f"{ms} ms"
    if ms < 59_950:  # what would not round up to "60.0 s"
        return f"{ms / 1000:.1f} s"
    seconds = round(ms / 1000)
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def ago(epoch: int | None, now: float | None = None) -> str:
    """'12 s ago', '3 min ago', 'in 6 d': the same words static/app.js keeps up to date."""
    if epoch is None:
        return "—"
    delta = int((time.time() if now is None else now) - epoch)
    future, seconds = delta < 0, abs(delta)
    if seconds < 5:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size:
            amount = f"{seconds // size} {unit}"
            return f"in {amount}" if future else f"{amount} ago"
    return "just now"
