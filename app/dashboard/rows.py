"""The task row: the fragment a list page repeats up to 100 times, built here rather than in a macro.

A Jinja macro with this row's forty-odd expressions cost about 70 µs a row (a
50-row page, 3.5 ms of CPU); this builds it in a fraction of that. Every value
written is escaped (markupsafe) or is a number made here; the unit tests hold
it to the templates' rules (no inline script or style, text escaped). The
row's data-key is ``str(RowKey.of(task))``, written out. Templates call
``task_row(task, ...)``, ``task_row.many(tasks)``, ``retry_link(task)`` and ``cancel_link(task)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from app.dashboard import timing
from app.dashboard.fragments import badge, elapsed, live_key, when
from app.domain.task import TaskStatus

if TYPE_CHECKING:
    from app.domain.task import Task

_QUEUE_WAIT_UNKNOWN = (
    '<span class="muted" title="Not recorded on the task (started before tasks kept their start)">—</span>'
)


_NEVER_STARTED = '<span class="muted" title="No worker started it">—</span>'


class Rows:
    """Rows and retry links for one render: the routes' paths looked up once, filled in per task."""

    def __init__(self, url: Any, now: float):
        marker = "\x1etask\x1e"
        self.task_path = url("dashboard_task", task_id=marker).split(marker)
        self.confirm_path = url("dashboard_confirm_retry", task_id=marker).split(marker)
        self.retry_path = url("dashboard_retry", task_id=marker).split(marker)
        self.confirm_cancel_path = url("dashboard_confirm_cancel", task_id=marker).split(marker)
        self.cancel_path = url("dashboard_cancel", task_id=marker).split(marker)
        self.now = now

    def task_url(self, task_id: str) -> str:
        return str(escape(task_id)).join(self.task_path)

    def retry_link(self, task: Task, row: bool = False) -> Markup:
        """A FAILED task's Retry: confirmed in a dialog with htmx, on a page of its own without."""
        task_id = str(escape(task.id))
        short = task_id[:8]
        target = ' hx-target="closest tr" hx-swap="outerHTML"' if row else ""
        question = f"Retry task {short} ({escape(task.task_type)})? Its work runs again as a new task."
        return Markup(
            f'<a class="button small danger-outline retry" href="{task_id.join(self.confirm_path)}"'
            f' hx-post="{task_id.join(self.retry_path)}"{target} hx-confirm="{question}"'
            f' aria-label="Retry task {short}">Retry</a>'
        )

    def cancel_link(self, task: Task, row: bool = False) -> Markup:
        """An in-flight task's Cancel: confirmed in a dialog with htmx, on a page of its own without."""
        task_id = str(escape(task.id))
        short = task_id[:8]
        target = ' hx-target="closest tr" hx-swap="outerHTML"' if row else ""
        if task.status is TaskStatus.IN_PROGRESS:
            effect = "Its worker stops at its next progress report; the result is dropped."
        else:
            effect = "It ends CANCELLED now and never runs."
        question = f"Cancel task {short} ({escape(task.task_type)}, {task.status.value})? {effect}"
        return Markup(
            f'<a class="button small danger-outline cancel" href="{task_id.join(self.confirm_cancel_path)}"'
            f' hx-post="{task_id.join(self.cancel_path)}"{target} hx-confirm="{question}"'
            f' aria-label="Cancel task {short}">Cancel</a>'
        )

    def many(self, tasks: list[Task]) -> Markup:
        """Every row of a page, in one call from the template (a call per row costs Jinja more)."""
        return Markup("\n".join([self(task) for task in tasks]))

    def __call__(
        self, task: Task, oob: bool = False, retried_as: Task | None = None, fresh: bool = False
    ) -> Markup:
        status = task.status.value
        terminal = task.status.is_terminal
        task_id = str(escape(task.id))
        short = task_id[:8]
        parts = [
            f'<tr id="task-{task_id}" class="task-row status-{status.lower()}{" fresh" if fresh else ""}"'
            f' data-status="{status}" data-key="{int(task.created_ms):013d}-{task_id}"'
            f' data-created="{int(task.created_time)}"',
            f' data-started="{task.started_ms // 1000}"' if task.started_ms is not None else "",
            f' data-finished="{task.finished_ms // 1000}"' if task.finished_ms is not None else "",
            f' data-stopped="{stopped}"' if (stopped := timing.run_stopped(task)) is not None else "",
            f' data-rank="{timing.STATUS_RANK[task.status]}"',
            ' hx-swap-oob="morph">' if oob else ">",
            '\n  <td class="select">',
        ]
        cancellable = not terminal and not task.cancel_requested
        retried_as_id = retried_as.id if retried_as else task.retried_as
        if status == "FAILED" and not retried_as_id:
            parts.append(
                f'<input type="checkbox" name="ids" value="{task_id}" form="bulk-retry"'
                f' aria-label="Select task {short} to retry">'
            )
        elif cancellable:
            parts.append(
                f'<input type="checkbox" name="ids" value="{task_id}" form="bulk-cancel"'
                f' aria-label="Select task {short} to cancel">'
            )
        parts += [
            "</td>",
            f'\n  <td class="id" data-label="ID"><button type="button" class="copy-id" data-copy="{task_id}"'
            f' title="{task_id} (click to copy)">{short}</button></td>',
            f'\n  <td class="type" data-label="Type">{escape(task.task_type)}</td>',
            f'\n  <td class="status" data-label="Status">{badge(task)}',
        ]
        if status == "IN_PROGRESS" and task.progress is not None and not task.is_between_attempts:
            # The badge says the percentage in words; the bar only repeats it for the eye.
            value = int(task.progress)
            parts.append(
                f'<progress class="mini" max="100" value="{value}" aria-hidden="true">{value}%</progress>'
            )
        message = escape(task.status_msg)
        parts.append(
            f'</td>\n  <td class="message" data-label="Message"><span class="status-msg">{message}</span>'
        )
        for note, other in (
            ("retry of", task.retry_of),
            ("retried as", retried_as_id),
        ):
            if other:
                link = f'<a href="{self.task_url(other)}">{str(escape(other))[:8]}</a>'
                parts.append(f'<span class="link-note">{note} {link}</span>')
        if task.cancel_requested and not terminal:
            parts.append(f'<span class="link-note">cancel asked by {escape(task.cancel_requested)}</span>')
        if task.started_ms is not None:
            wait = elapsed(timing.waiting_seconds(task, self.now) or 0)
        elif status == "CREATED":
            wait = elapsed(timing.waiting_seconds(task, self.now) or 0, task.created_time)
        elif status == "SCHEDULED" and task.run_at:
            wait = Markup(f'<span class="muted">runs {when(task.run_at)}</span>')
        elif terminal:
            wait = _NEVER_STARTED
        else:
            wait = _QUEUE_WAIT_UNKNOWN
        ran = timing.run_seconds(task, self.now)
        if ran is None:
            run_time = _NEVER_STARTED
        else:
            # Ticking only while an attempt runs: between attempts it stands still at the last one's crash.
            still = terminal or task.is_between_attempts
            run_time = elapsed(ran, None if still or task.started_ms is None else task.started_ms // 1000)
        parts += [
            "</td>",
            f'\n  <td class="time" data-label="Created">{when(task.created_time)}</td>',
            f'\n  <td class="time" data-label="Updated">{when(task.updated_time)}</td>',
            f'\n  <td class="span wait" data-label="Queue wait">{wait}</td>',
            f'\n  <td class="span duration" data-label="Run time">{run_time}</td>',
            f'\n  <td class="actions"><a class="button small" href="{self.task_url(task.id)}"'
            f' aria-label="Open task {short}">Open</a>',
        ]
        if retried_as_id:
            # Retried already: its retry is where to go, never a second Retry.
            parts.append(
                f' <a class="button small open-retry" href="{self.task_url(retried_as_id)}"'
                f' aria-label="Open the retry of task {short}">Open the retry</a>'
            )
        elif status == "FAILED":
            parts.append(" " + self.retry_link(task, row=True))
        elif cancellable:
            parts.append(" " + self.cancel_link(task, row=True))
        if not terminal:
            parts.append(f'<input type="hidden" name="live" value="{task_id}|{escape(live_key(task))}">')
        parts.append("</td>\n</tr>")
        return Markup("".join(parts))
