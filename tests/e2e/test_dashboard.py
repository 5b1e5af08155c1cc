"""The dashboard's user journeys, in Chromium, against `python -m app.local` (what `make run` starts).

The stack is shared with the other e2e tests, so every test works on tasks it
created itself (found by id or by a unique marker), never on counts of all.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import wait_until
from tests.e2e.accessibility import no_axe_violations
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def create_through_api(stack, task_type: str, data: dict) -> str:
    response = httpx.post(
        f"{stack.base_url}/tasks",
        json={"task_type": task_type, "data": data},
        headers=stack.headers,
        timeout=5,
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def api_task(stack, task_id: str) -> dict:
    return httpx.get(f"{stack.base_url}/tasks/{task_id}", headers=stack.headers, timeout=5).json()


def finished(stack, task_id: str, timeout: float = 20) -> dict:
    def done():
        task = api_task(stack, task_id)
        return task if task["status"] in ("COMPLETED", "FAILED") else None

    return wait_until(done, timeout=timeout, interval=0.1, what=f"task {task_id} to finish")


def failed_by_an_operator(stack) -> str:
    """A FAILED TASK1 whose retry will complete: cancelled through the API before its work ends."""
    task_id = create_through_api(stack, "TASK1", {"duration_seconds": 1, "marker": uuid.uuid4().hex})
    for _ in range(2):  # CREATED -> FAILED, or IN_PROGRESS -> FAILED if a worker got it first
        response = httpx.patch(
            f"{stack.base_url}/tasks/{task_id}",
            json={"status": "FAILED", "status_msg": "cancelled by an operator"},
            headers=stack.headers,
            timeout=5,
        )
        if response.status_code == 200:
            return task_id
    raise AssertionError(f"could not fail {task_id}: {response.text}")


def row(page: Page, task_id: str):
    return page.locator(f"#task-{task_id}")


def open_new_task(page: Page) -> None:
    """The create form sits behind its New task button (the first screen is the list)."""
    new_task = page.locator("#new-task")
    if new_task.get_attribute("open") is None:
        new_task.get_by_text("New task", exact=True).click()
    expect(page.locator("#create-form")).to_be_visible()


def create_through_the_form(page: Page, task_type: str, data: str) -> str:
    open_new_task(page)
    form = page.locator("#create-form")
    form.get_by_label("Task type").select_option(task_type)
    form.get_by_label("Data (a JSON object)").fill(data)
    form.get_by_role("button", name="Create task").click()
    link = page.locator("#create-form .success a")
    expect(link).to_be_visible()
    return link.get_attribute("href").rsplit("/", 1)[1]


def test_sign_in(fresh_context):
    page = fresh_context.new_page()
    page.goto("/dashboard/login")
    no_axe_violations(page, "sign-in")
    sign_in(page)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_text("Signed in as")).to_be_visible()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()


def test_without_sign_in_the_login_page_is_shown_then_the_page_asked_for(fresh_context, live_stack):
    task_id = create_through_api(live_stack, "TASK2", {"text": "sign in first"})
    page = fresh_context.new_page()
    page.goto(f"/dashboard/tasks/{task_id}")
    expect(page).to_have_url(re.compile(r"/dashboard/login\?next="))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page)
    expect(page).to_have_url(re.compile(rf"/dashboard/tasks/{task_id}$"))


def test_create_task1_and_watch_it_complete_without_reloading(dashboard: Page):
    dashboard.evaluate("window.notReloaded = true")
    task_id = create_through_the_form(dashboard, "TASK1", '{"duration_seconds": 1}')
    new_row = row(dashboard, task_id)
    expect(dashboard.locator("#task-rows tr.task-row").first).to_have_id(f"task-{task_id}")
    expect(new_row.locator(".badge")).to_have_text(re.compile("CREATED|IN_PROGRESS"))
    expect(new_row).to_have_attribute("data-status", "COMPLETED")
    expect(new_row.locator(".badge")).to_have_text("COMPLETED")
    expect(new_row.locator(".status-msg")).to_have_text("done in 1 s")
    # Finished: the row no longer asks for updates, and with nothing else in flight the poller idles.
    expect(new_row.locator("input[name='live']")).to_have_count(0)
    assert dashboard.evaluate("window.notReloaded") is True


def test_a_failing_task_shows_failed_and_its_reason(dashboard: Page):
    reason = f"disk full {uuid.uuid4().hex[:6]}"
    task_id = create_through_the_form(dashboard, "TASK1", f'{{"fail": true, "fail_message": "{reason}"}}')
    failed_row = row(dashboard, task_id)
    expect(failed_row.locator(".badge")).to_have_text("FAILED")
    expect(failed_row.locator(".status-msg")).to_have_text(reason)
    expect(failed_row.get_by_role("link", name="Retry")).to_be_visible()


def test_invalid_json_is_shown_next_to_the_field_and_kept(dashboard: Page):
    open_new_task(dashboard)
    dashboard.locator("#create-data").fill('{"duration_seconds": ')
    dashboard.get_by_role("button", name="Create task").click()
    expect(dashboard.locator("#create-data-error")).to_contain_text("Not valid JSON")
    expect(dashboard.locator("#create-data")).to_have_value('{"duration_seconds": ')
    no_axe_violations(dashboard, "the create form with an error")


def test_filter_by_status_and_by_type(dashboard: Page, live_stack):
    marker = uuid.uuid4().hex
    done_1 = create_through_api(live_stack, "TASK1", {"duration_seconds": 0, "marker": marker})
    failed_2 = create_through_api(live_stack, "TASK2", {"marker": marker})
    done_2 = create_through_api(live_stack, "TASK2", {"text": marker})
    for task_id in (done_1, failed_2, done_2):
        finished(live_stack, task_id)
    dashboard.reload()

    dashboard.locator("#filters").get_by_label("Status").select_option("FAILED")
    expect(dashboard).to_have_url(re.compile(r"/dashboard\?status=FAILED$"))
    expect(row(dashboard, failed_2)).to_be_visible()
    expect(row(dashboard, done_1)).to_have_count(0)
    statuses = dashboard.locator("#task-rows tr.task-row").evaluate_all(
        "rows => rows.map(r => r.dataset.status)"
    )
    assert set(statuses) == {"FAILED"}

    dashboard.locator("#filters").get_by_label("Type").select_option("TASK2")
    expect(dashboard).to_have_url(re.compile(r"status=FAILED&task_type=TASK2$"))
    expect(row(dashboard, failed_2)).to_be_visible()
    types = dashboard.locator("#task-rows tr.task-row td.type").all_inner_texts()
    assert types and set(types) == {"TASK2"}

    dashboard.locator("#filters").get_by_label("Status").select_option("")
    expect(dashboard).to_have_url(re.compile(r"/dashboard\?task_type=TASK2$"))
    expect(row(dashboard, done_2)).to_be_visible()
    expect(row(dashboard, done_1)).to_have_count(0)

    # Bookmarkable, and the back button restores the previous filters.
    dashboard.go_back()
    expect(dashboard).to_have_url(re.compile(r"status=FAILED&task_type=TASK2$"))
    expect(dashboard.locator("#filters").get_by_label("Status")).to_have_value("FAILED")
    expect(row(dashboard, done_2)).to_have_count(0)
    expect(dashboard.locator("#counts [data-status='FAILED'] .number")).to_have_text(
        re.compile(r"^\d[\d,]*\+?$")
    )
    no_axe_violations(dashboard, "the list filtered by status and type")


def test_page_through_more_tasks_than_one_page_holds(dashboard: Page, live_stack):
    start = int(time.time())
    mine = [create_through_api(live_stack, "TASK2", {"text": f"page {n}"}) for n in range(7)]
    since = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    dashboard.goto(f"/dashboard?created_from={since}&limit=3")
    rows = dashboard.locator("#task-rows tr.task-row")
    expect(rows).to_have_count(3)
    load_more = dashboard.get_by_role("link", name="Load more")
    while True:
        expect(load_more.or_(dashboard.get_by_text("End of the list."))).to_be_visible()
        if not load_more.is_visible():
            break
        before = rows.count()
        load_more.click()
        expect(rows).not_to_have_count(before)
    shown = [row_id.removeprefix("task-") for row_id in rows.evaluate_all("rows => rows.map(r => r.id)")]
    assert len(shown) == len(set(shown)), "a task shown twice"
    assert set(mine) <= set(shown)
    assert [i for i in shown if i in mine] == list(reversed(mine)), "newest first"


def test_open_a_detail_page(dashboard: Page, live_stack):
    text = f"every field {uuid.uuid4().hex[:6]}"
    task_id = create_through_api(live_stack, "TASK2", {"text": text, "nested": {"n": [1, 2]}})
    finished(live_stack, task_id)
    dashboard.reload()
    row(dashboard, task_id).get_by_role("link", name="Open").click()
    expect(dashboard).to_have_url(re.compile(rf"/dashboard/tasks/{task_id}$"))
    detail = dashboard.locator("#task-detail")
    expect(detail.locator("#task-id")).to_have_text(task_id)
    expect(detail.locator(".badge")).to_have_text("COMPLETED")
    expect(detail.locator("pre.status-msg")).to_have_text("counted 3 words")
    expect(dashboard.locator("#task-data")).to_contain_text(
        '"nested": {\n    "n": [\n      1,\n      2\n    ]'
    )
    expect(dashboard.locator("#task-data")).to_contain_text(f'"text": "{text}"')
    for label in ("Created", "Updated", "Expires"):
        expect(detail.locator("dt", has_text=label)).to_be_visible()
    no_axe_violations(dashboard, "a completed task's page")


def test_retry_a_failed_task_and_see_the_new_attempt_finish(dashboard: Page, live_stack):
    original = failed_by_an_operator(live_stack)
    dashboard.reload()
    failed_row = row(dashboard, original)
    expect(failed_row.locator(".status-msg")).to_have_text("cancelled by an operator")
    dialogs = []
    dashboard.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    failed_row.get_by_role("link", name="Retry").click()

    retried_as = failed_row.locator(".link-note", has_text="retried as").get_by_role("link")
    expect(retried_as).to_be_visible()
    assert dialogs and dialogs[0].startswith(f"Retry task {original[:8]}")
    retry_id = retried_as.get_attribute("href").rsplit("/", 1)[1]
    retry_row = row(dashboard, retry_id)
    expect(retry_row.locator(".link-note", has_text="retry of")).to_contain_text(original[:8])
    expect(retry_row.locator(".badge")).to_have_text("COMPLETED")
    expect(retry_row.locator(".status-msg")).to_have_text("done in 1 s")

    retry_row.get_by_role("link", name="Open").click()
    expect(dashboard.locator("dt", has_text="Retry of")).to_be_visible()
    expect(dashboard.locator("#task-detail a", has_text=original)).to_be_visible()


def test_retry_from_the_detail_page(dashboard: Page, live_stack):
    original = failed_by_an_operator(live_stack)
    dashboard.goto(f"/dashboard/tasks/{original}")
    dashboard.once("dialog", lambda dialog: dialog.accept())
    dashboard.locator("#task-detail").get_by_role("link", name=re.compile(r"^Retry task")).click()
    expect(dashboard.locator("dt", has_text="Retry of")).to_be_visible()
    expect(dashboard.locator("#task-detail a", has_text=original)).to_be_visible()
    # The new task's page follows it to the end by itself.
    expect(dashboard.locator("#task-detail .badge")).to_have_text("COMPLETED")


def test_bulk_retry_of_selected_failed_tasks(dashboard: Page, live_stack):
    failed = [create_through_api(live_stack, "TASK2", {"marker": uuid.uuid4().hex}) for _ in range(2)]
    for task_id in failed:
        assert finished(live_stack, task_id)["status"] == "FAILED"
    dashboard.goto("/dashboard?status=FAILED&task_type=TASK2")
    for task_id in failed:
        row(dashboard, task_id).get_by_role("checkbox").check()
    dashboard.once("dialog", lambda dialog: dialog.accept())
    dashboard.get_by_role("button", name="Retry selected failed tasks").click()
    expect(dashboard.locator("#alerts .notice")).to_have_text("Retried 2 of 2 selected tasks.")
    for task_id in failed:
        expect(row(dashboard, task_id).locator(".link-note", has_text="retried as")).to_be_visible()
    # Its own retries only: other tests of the session leave failed TASK2 retries on this filter too.
    for task_id in failed:
        retry = dashboard.locator(
            "#task-rows tr.task-row", has=dashboard.locator(".link-note", has_text=f"retry of {task_id[:8]}")
        )
        expect(retry.filter(has=dashboard.locator(".badge", has_text="FAILED"))).to_have_count(1)


def test_find_a_task_by_id_copied_from_its_short_id(dashboard: Page, live_stack):
    task_id = create_through_api(live_stack, "TASK2", {"text": "find me"})
    dashboard.reload()
    short = row(dashboard, task_id).locator("button.copy-id")
    expect(short).to_have_text(task_id[:8])
    short.click()
    expect(short).to_have_class(re.compile("copied"))
    copied = dashboard.evaluate("navigator.clipboard.readText()")
    assert copied == task_id

    dashboard.get_by_placeholder("Task id or short id").fill(f" {copied} ")
    dashboard.get_by_role("button", name="Find").click()
    expect(dashboard).to_have_url(re.compile(rf"/dashboard/tasks/{task_id}$"))

    dashboard.goto("/dashboard")
    dashboard.get_by_placeholder("Task id or short id").fill("ffffffff-ff")
    dashboard.get_by_role("button", name="Find").click()
    expect(dashboard.locator("#find-error")).to_contain_text("No task has an id starting with")


def test_an_xss_payload_in_data_stays_inert(dashboard: Page):
    script = "<script>window.pwned = 1</script><img src=x onerror=window.pwned=2>"
    attribute = '" onmouseover="window.pwned=3" x="'
    data = json.dumps({"fail": True, "fail_message": script + attribute, "html": script, "attr": attribute})
    dialogs = []
    dashboard.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    task_id = create_through_the_form(dashboard, "TASK1", data)
    message = row(dashboard, task_id).locator(".status-msg")
    expect(message).to_have_text(script + attribute)
    message.hover()

    dashboard.goto(f"/dashboard/tasks/{task_id}")
    expect(dashboard.locator("#task-data")).to_contain_text(script)
    expect(dashboard.locator("#task-detail pre.status-msg")).to_have_text(script + attribute)
    failed_hop = dashboard.locator("#timeline-events tr[data-hop='failed']")
    expect(failed_hop.locator(".message")).to_have_text(script + attribute)
    failed_hop.hover()
    dashboard.locator("#task-data").hover()
    dashboard.reload()
    expect(dashboard.locator("#task-data")).to_contain_text(json.dumps(attribute)[1:-1])
    assert dashboard.evaluate("window.pwned") is None
    assert dashboard.locator("#task-detail script, #task-detail img").count() == 0
    assert dialogs == []


def test_a_state_change_without_the_csrf_token_is_refused(dashboard: Page, live_stack):
    marker = uuid.uuid4().hex
    form = {"task_type": "TASK2", "data": f'{{"text": "{marker}"}}', "ttl": ""}
    request = dashboard.context.request  # the page's cookies: signed in
    refused = request.post(f"{live_stack.base_url}/dashboard/tasks", form=form, max_redirects=0)
    assert refused.status == 403
    assert "did not come from this dashboard" in refused.text()

    token = dashboard.locator("#create-form input[name='csrf_token']").get_attribute("value")
    accepted = request.post(
        f"{live_stack.base_url}/dashboard/tasks", form={**form, "csrf_token": token}, max_redirects=0
    )
    assert accepted.status == 303
