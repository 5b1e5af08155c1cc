"""The task row built in Python (app/dashboard/rows.py) keeps the templates' rules."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser

from app.dashboard.rows import Rows
from app.domain.task import TaskStatus
from app.services.dashboard import RowKey
from tests.factories import a_task

NOW = 1_800_000_000.0
HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>" onmouseover="alert(3)'


def url(name: str, query=None, **params) -> str:
    paths = {
        "dashboard_task": "/dev/dashboard/tasks/{task_id}",
        "dashboard_confirm_retry": "/dev/dashboard/tasks/{task_id}/retry",
        "dashboard_retry": "/dev/dashboard/tasks/{task_id}/retry",
        "dashboard_confirm_cancel": "/dev/dashboard/tasks/{task_id}/cancel",
        "dashboard_cancel": "/dev/dashboard/tasks/{task_id}/cancel",
    }
    return paths[name].format(**params)


class Elements(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def test_every_value_is_escaped_and_nothing_runs_inline():
    task = dataclasses.replace(
        a_task(now=NOW - 5).moved_to(TaskStatus.FAILED, HOSTILE, NOW), task_type=HOSTILE, retry_of=HOSTILE
    )
    row = str(Rows(url, NOW)(task))
    elements = Elements(row).found
    assert {tag for tag, _ in elements} <= {"tr", "td", "input", "button", "span", "a", "time"}
    for tag, attributes in elements:
        assert not [name for name in attributes if name.startswith("on") or name == "style"], (
            tag,
            attributes,
        )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row


def test_a_failed_row_can_be_selected_and_retried_under_the_stage_prefix():
    task = (
        a_task(now=NOW - 5)
        .moved_to(TaskStatus.IN_PROGRESS, "", NOW - 4)
        .moved_to(TaskStatus.FAILED, "boom", NOW - 1)
    )
    row = str(Rows(url, NOW)(task))
    assert f'<input type="checkbox" name="ids" value="{task.id}" form="bulk-retry"' in row
    assert f'hx-post="/dev/dashboard/tasks/{task.id}/retry"' in row
    assert f'href="/dev/dashboard/tasks/{task.id}"' in row
    assert f'data-key="{RowKey.of(task)}"' in row and 'data-finished="' in row
    assert 'data-label="Run time">3 s</td>' in row and 'name="live"' not in row


def test_a_row_in_flight_is_followed_counts_up_and_can_be_cancelled():
    task = a_task(now=NOW - 75)
    row = str(Rows(url, NOW)(task, fresh=True, oob=True))
    assert 'class="task-row status-created fresh"' in row and 'hx-swap-oob="morph"' in row
    assert f'<input type="hidden" name="live" value="{task.id}|CREATED::">' in row
    assert f'data-since="{task.created_time}" title="so far">1 min 15 s</span>' in row
    assert "data-finished" not in row
    assert f'<input type="checkbox" name="ids" value="{task.id}" form="bulk-cancel"' in row
    assert f'hx-post="/dev/dashboard/tasks/{task.id}/cancel" hx-target="closest tr"' in row
    assert f'href="/dev/dashboard/tasks/{task.id}/cancel"' in row and "It ends CANCELLED now" in row


def test_a_running_row_says_a_cancel_stops_it_at_its_next_report_and_is_not_cancelled_twice():
    running = a_task(now=NOW - 20).moved_to(TaskStatus.IN_PROGRESS, "", NOW - 10, attempt=1)
    row = str(Rows(url, NOW)(running))
    assert "Its worker stops at its next progress report" in row
    assert 'data-label="Queue wait">10 s</td>' in row  # created to started, from the task item
    asked = dataclasses.replace(running, cancel_requested="ann")
    row = str(Rows(url, NOW)(asked))
    assert "cancel asked by ann" in row
    assert "/cancel" not in row and 'type="checkbox"' not in row


def test_a_scheduled_row_says_when_it_runs_and_a_cancelled_one_that_it_never_started():
    scheduled = dataclasses.replace(a_task(now=NOW - 5), status=TaskStatus.SCHEDULED, run_at=int(NOW) + 600)
    row = str(Rows(url, NOW)(scheduled))
    assert 'data-status="SCHEDULED"' in row and "badge-scheduled" in row
    assert '<span class="muted">runs <time' in row and f'data-epoch="{scheduled.run_at}"' in row
    assert 'form="bulk-cancel"' in row
    cancelled = scheduled.moved_to(TaskStatus.CANCELLED, "cancelled by ann", NOW)
    row = str(Rows(url, NOW)(cancelled))
    assert "badge-cancelled" in row and 'title="No worker started it"' in row
    assert 'type="checkbox"' not in row and "/cancel" not in row and 'name="live"' not in row


def test_many_rows_in_one_call():
    tasks = [a_task(now=NOW - n) for n in range(3)]
    html = str(Rows(url, NOW).many(tasks))
    assert re.findall(r'<tr id="task-([0-9a-f-]{36})"', html) == [task.id for task in tasks]


def test_a_task_between_attempts_says_which_attempt_comes_when_and_shows_no_spinner():
    crashed = dataclasses.replace(
        a_task("TASK1"),
        status=TaskStatus.IN_PROGRESS,
        attempt=2,
        progress=40,
        status_msg="attempt 2 crashed: RuntimeError: boom",
        retry_at=int(NOW) + 30,
    )
    row = str(Rows(url, NOW)(crashed))
    assert '<span class="badge badge-retrying">RETRYING</span>' in row
    assert "badge-in_progress" not in row and "<progress" not in row
    assert re.search(rf'attempt 3 of 5, next at <time datetime="[^"]+" data-exact="{int(NOW) + 30}">', row)
    running = dataclasses.replace(crashed, retry_at=None, lease_expires=int(NOW) + 60)
    assert "badge-in_progress" in str(Rows(url, NOW)(running))


def test_a_task_between_attempts_shows_its_run_time_standing_still():
    started = int(NOW) - 90
    crashed = dataclasses.replace(
        a_task("TASK1"),
        status=TaskStatus.IN_PROGRESS,
        attempt=1,
        started_ms=started * 1000,
        updated_time=started + 30,
        retry_at=int(NOW) + 5,
    )
    row = str(Rows(url, NOW)(crashed))
    duration = re.search(r'<td class="span duration"[^>]*>(.*?)</td>', row).group(1)
    assert duration == "30 s" and "ticking" not in duration
    assert f'data-stopped="{started + 30}"' in row
    running = dataclasses.replace(crashed, retry_at=None)
    assert f'class="ticking" data-since="{started}"' in str(Rows(url, NOW)(running))
