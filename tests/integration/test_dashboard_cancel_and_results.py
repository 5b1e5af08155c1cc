"""Cancel from the dashboard (a row, a task's page, the ticked rows, all a filter matches) and a task's
result and crashed attempts, through HTTP against the store on the emulator.

tests/e2e/test_dashboard_operations.py drives the same in Chromium.
"""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
from html import unescape

import pytest

from app.domain.task import TaskStatus
from app.domain.timeline import ErrorInfo, Hop, event_of
from app.services import tasks
from tests.integration.test_dashboard import HTMX, make_client, row_ids, sign_in, stored

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(provisioned):
    from app.settings import Settings

    return make_client(Settings(table_name=provisioned.resources.table_name, api_keys="k"), provisioned)


@pytest.fixture(scope="module")
def csrf(client) -> str:
    return sign_in(client)


def scheduled(provisioned, **data):
    return tasks.create_task(
        provisioned.store, "TASK1", {"marker": uuid.uuid4().hex, **data}, None,
        max_data_bytes=65536, default_ttl_seconds=3600, run_at=int(time.time()) + 3600,
    )  # fmt: skip


def hops(provisioned, task_id: str) -> list[tuple[str, str, str]]:
    return [(e.hop.value, e.source, e.message) for e in provisioned.store.events(task_id)]


# --- one task -------------------------------------------------------------------------------


def test_a_created_task_cancelled_from_its_row_ends_at_once_and_the_timeline_says_who(
    client, csrf, provisioned
):
    task = stored(provisioned)
    headers = {**HTMX, "X-CSRF-Token": csrf, "HX-Target": f"task-{task.id}"}
    response = client.post(f"/dashboard/tasks/{task.id}/cancel", headers=headers)
    assert response.status_code == 200, response.text
    assert row_ids(response.text) == [task.id]
    assert (
        'data-status="CANCELLED"' in response.text and f"Task {task.id[:8]} was cancelled." in response.text
    )
    assert provisioned.store.get(task.id).status is TaskStatus.CANCELLED
    assert ("cancelled", "dashboard", "cancelled by admin") in hops(provisioned, task.id)


def test_a_running_task_is_asked_to_stop_and_a_second_ask_changes_nothing(client, csrf, provisioned):
    task = stored(provisioned, TaskStatus.IN_PROGRESS)
    headers = {**HTMX, "X-CSRF-Token": csrf, "HX-Target": f"task-{task.id}"}
    response = client.post(f"/dashboard/tasks/{task.id}/cancel", headers=headers)
    assert response.status_code == 200
    assert 'data-status="IN_PROGRESS"' in response.text and "cancel asked by admin" in response.text
    assert "its worker was asked to stop" in response.text
    assert provisioned.store.get(task.id).cancel_requested == "admin"
    client.post(f"/dashboard/tasks/{task.id}/cancel", headers=headers)
    requested = [hop for hop in hops(provisioned, task.id) if hop[0] == "cancel_requested"]
    assert requested == [("cancel_requested", "dashboard", "cancel requested by admin")]


def test_a_task_that_ended_is_refused_in_the_page_never_a_500(client, csrf, provisioned):
    done = stored(provisioned, TaskStatus.COMPLETED)
    headers = {**HTMX, "X-CSRF-Token": csrf, "HX-Target": f"task-{done.id}"}
    response = client.post(f"/dashboard/tasks/{done.id}/cancel", headers=headers)
    assert response.status_code == 409
    assert response.headers["HX-Retarget"] == "#alerts"
    assert "COMPLETED; it cannot move to CANCELLED" in response.text
    page = client.post(f"/dashboard/tasks/{done.id}/cancel", data={"csrf_token": csrf})
    assert page.status_code == 409 and "Not possible" in page.text
    assert client.post(f"/dashboard/tasks/{done.id}/cancel").status_code == 403  # no CSRF token
    assert client.post("/dashboard/tasks/not-an-id/cancel", data={"csrf_token": csrf}).status_code == 404
    assert provisioned.store.get(done.id).status is TaskStatus.COMPLETED


def test_without_javascript_a_cancel_asks_on_a_page_then_returns_to_the_task(client, csrf, provisioned):
    later = scheduled(provisioned)
    confirm = client.get(f"/dashboard/tasks/{later.id}/cancel")
    assert confirm.status_code == 200 and "ends CANCELLED at once and never runs" in confirm.text
    done = client.post(f"/dashboard/tasks/{later.id}/cancel", data={"csrf_token": csrf})
    assert done.status_code == 303 and done.headers["location"] == f"/dashboard/tasks/{later.id}"
    page = client.get(done.headers["location"]).text
    assert "cancelled by admin" in page and "Retry with edited data" in page
    assert f'hx-post="/dashboard/tasks/{later.id}/cancel"' not in page
    assert "there is nothing to cancel" in client.get(f"/dashboard/tasks/{later.id}/cancel").text


def test_a_task_page_in_flight_offers_cancel_and_shows_when_a_scheduled_one_runs(client, csrf, provisioned):
    later = scheduled(provisioned)
    page = client.get(f"/dashboard/tasks/{later.id}").text
    assert f'hx-post="/dashboard/tasks/{later.id}/cancel"' in page and 'id="run-at"' in page
    assert "It waits for its time to run" in page and "badge-scheduled" in page


# --- many --------------------------------------------------------------------------------------


def test_bulk_cancel_reports_each_task_and_is_safe_to_repeat(client, csrf, provisioned):
    created = stored(provisioned)
    running = stored(provisioned, TaskStatus.IN_PROGRESS)
    done = stored(provisioned, TaskStatus.FAILED)
    later = scheduled(provisioned)
    ids = [created.id, running.id, done.id, later.id, "not-a-task-id"]
    headers = {**HTMX, "X-CSRF-Token": csrf}
    response = client.post("/dashboard/cancel", data={"ids": ids}, headers=headers)
    text = unescape(response.text)
    assert response.status_code == 200
    assert "Cancelled 2 of 5 selected tasks; 1 running one was asked to stop" in text
    assert set(row_ids(response.text)) == {created.id, running.id, later.id}  # redrawn out of band
    assert f"{done.id[:8]}</a> had ended FAILED" in text and "not-a-ta: no such task" in text
    statuses = {task_id: provisioned.store.get(task_id).status for task_id in ids[:4]}
    assert statuses == {
        created.id: TaskStatus.CANCELLED, running.id: TaskStatus.IN_PROGRESS,
        done.id: TaskStatus.FAILED, later.id: TaskStatus.CANCELLED,
    }  # fmt: skip

    again = unescape(client.post("/dashboard/cancel", data={"ids": ids[:4]}, headers=headers).text)
    assert (
        "Cancelled 0 of 4 selected tasks." in again and "4 had ended or were being cancelled already" in again
    )
    assert len([h for h in hops(provisioned, running.id) if h[0] == "cancel_requested"]) == 1
    nothing = client.post("/dashboard/cancel", data={"csrf_token": csrf, "back": "https://evil.example/"})
    assert nothing.status_code == 400 and "Select at least one task in flight" in nothing.text
    assert 'href="/dashboard">Back to the tasks' in nothing.text


def test_cancel_all_matching_names_the_count_and_only_tasks_in_flight(client, csrf, provisioned):
    marker_type = "TASK2"
    start = int(time.time()) - 1
    created = [stored(provisioned, task_type=marker_type) for _ in range(2)]
    running = stored(provisioned, TaskStatus.IN_PROGRESS, task_type=marker_type)
    asked = stored(provisioned, TaskStatus.IN_PROGRESS, task_type=marker_type)
    tasks.cancel_task(provisioned.store, asked.id, "bob", source="dashboard")
    stored(provisioned, TaskStatus.COMPLETED, task_type=marker_type)
    query = f"task_type={marker_type}&created_from={start}"
    page = client.get(f"/dashboard/cancel-matching?{query}")
    form_ids = re.findall(r'name="ids" value="([0-9a-f-]{36})"', page.text)
    assert sorted(form_ids) == sorted([task.id for task in [*created, running]])
    assert "<h1>Cancel 3 tasks in flight?</h1>" in page.text and "Cancel 3 tasks</button>" in page.text
    only_running = client.get(f"/dashboard/cancel-matching?{query}&status=IN_PROGRESS")
    assert re.findall(r'name="ids" value="([0-9a-f-]{36})"', only_running.text) == [running.id]
    assert "status IN_PROGRESS, type TASK2" in only_running.text
    done = client.get(f"/dashboard/cancel-matching?{query}&status=COMPLETED")
    assert "<h1>Nothing to cancel</h1>" in done.text
    listed = client.get(f"/dashboard?{query}").text
    assert 'id="cancel-matching"' in listed and 'id="bulk-cancel"' in listed


# --- a task's result and its attempts --------------------------------------------------------


def test_a_completed_task_shows_its_result_and_a_crashed_attempt_its_exception(client, csrf, provisioned):
    task = stored(provisioned, TaskStatus.IN_PROGRESS)
    now = time.time()
    try:
        raise ConnectionError("upstream <closed> the connection")
    except ConnectionError as exc:
        error = ErrorInfo.of(exc)
    current = provisioned.store.get(task.id)
    provisioned.store.add_events(
        [
            event_of(current, Hop.STARTED, now, "worker TASK1", status="IN_PROGRESS", attempt=1),
            event_of(
                current, Hop.CRASHED, now + 0.1, "worker TASK1", attempt=1, message="crashed", error=error
            ),
            event_of(current, Hop.STARTED, now + 2, "worker TASK1", status="IN_PROGRESS", attempt=2),
        ]
    )
    result = {"words": 3, "note": "<b>bold</b>"}
    finished = dataclasses.replace(current.moved_to(TaskStatus.COMPLETED, "done", now + 3), result=result)
    provisioned.store.replace_if(finished, expected=current)
    page = client.get(f"/dashboard/tasks/{task.id}").text
    assert '<details class="result" id="result" open>' in page
    shown = re.search(r'<pre class="json" id="task-result">(.*?)</pre>', page, re.S).group(1)
    assert "&lt;b&gt;bold&lt;/b&gt;" in shown and '"words": 3' in unescape(shown)
    crash = re.search(r'<div class="crash">.*?</div>', page, re.S).group(0)
    assert '<code class="error-type">ConnectionError</code>: upstream &lt;closed&gt; the connection' in crash
    assert "raise ConnectionError" in unescape(crash) and "<summary>Stack trace" in crash
    assert 'data-attempt="2"' in page
