"""What the CLI prints for people: tables, a task's fields, and the progress bar of ``wait``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, TextIO

from async_app_client.models import Task, TaskEvent, TaskStatus

BAR_WIDTH = 30
MESSAGE_CHARS = 60


def when(epoch_seconds: int | None) -> str:
    if epoch_seconds is None:
        return "-"
    return dt.datetime.fromtimestamp(epoch_seconds, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def shorten(text: str, limit: int = MESSAGE_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str] = ()) -> str:
    """Columns padded to their widest cell; the last one is left ragged."""
    cells = [[str(cell) for cell in row] for row in ([headers] if headers else []) + list(rows)]
    if not cells:
        return ""
    widths = [max(len(row[column]) for row in cells) for column in range(len(cells[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def percent(task: Task) -> str:
    return "-" if task.progress is None else f"{task.progress}%"


def task_table(tasks: Sequence[Task]) -> str:
    rows = [
        (
            task.id,
            task.task_type,
            task.status,
            percent(task),
            when(task.created_time),
            shorten(task.status_msg),
        )
        for task in tasks
    ]
    return table(rows, ("ID", "TYPE", "STATUS", "PROGRESS", "CREATED", "MESSAGE"))


def task_details(task: Task) -> str:
    """Every field of the task, one a line; fields this client doesn't know are shown too."""
    rows: list[tuple[str, Any]] = [
        ("id", task.id),
        ("task_type", task.task_type),
        ("status", task.status),
        ("status_msg", task.status_msg or "-"),
        ("progress", percent(task)),
        ("data", json.dumps(task.data)),
        ("created", when(task.created_time)),
        ("updated", when(task.updated_time)),
        ("ttl", when(task.ttl)),
        ("retry_of", task.retry_of or "-"),
    ]
    optional = {
        "result": task.result,
        "run_at": task.run_at,
        "callback_url": task.callback_url,
        "retried_as": task.retried_as,
        "cancel_requested": task.cancel_requested,
    }
    rows += [(name, json.dumps(value)) for name, value in optional.items() if name in task.raw]
    rows += [(name, json.dumps(value)) for name, value in task.extra.items()]
    return table(rows)


def event_table(events: Sequence[TaskEvent]) -> str:
    rows = [
        (
            f"+{event.since_created_ms} ms",
            event.hop,
            event.status or "-",
            event.source,
            "-" if event.attempt is None else event.attempt,
            "-" if event.progress is None else f"{event.progress}%",
            shorten(event.message + (f" [{event.error['type']}]" if event.error else "")),
        )
        for event in events
    ]
    return table(rows, ("SINCE CREATED", "HOP", "STATUS", "SOURCE", "ATTEMPT", "PROGRESS", "MESSAGE"))


def progress_line(task: Task, width: int = BAR_WIDTH) -> str:
    """``[#######-------]  50%  IN_PROGRESS  1 of 2 s``: a completed task is full whatever it reported."""
    done = 100 if task.status == TaskStatus.COMPLETED else min(max(task.progress or 0, 0), 100)
    filled = round(width * done / 100)
    message = f"  {shorten(task.status_msg)}" if task.status_msg else ""
    return f"[{'#' * filled}{'-' * (width - filled)}] {done:3d}%  {task.status}{message}"


class ProgressBar:
    """Redrawn in place on a terminal; elsewhere (a log, a pipe) one line per change."""

    def __init__(self, stream: TextIO, width: int = BAR_WIDTH):
        self._stream = stream
        self._width = width
        self._in_place = stream.isatty()
        self._shown: str | None = None

    def update(self, task: Task) -> None:
        line = progress_line(task, self._width)
        if line == self._shown:
            return
        # \x1b[K clears what a longer previous line left behind.
        self._stream.write(f"\r{line}\x1b[K" if self._in_place else f"{line}\n")
        self._stream.flush()
        self._shown = line

    def close(self) -> None:
        if self._in_place and self._shown is not None:
            self._stream.write("\n")
            self._stream.flush()
