"""The dashboard as an operations console, in Chromium at 1280 px and at 390 px (a phone),
against `python -m app.local`, with axe-core on every page state the journeys reach.

The stack is shared with the other e2e tests, so every test works on tasks it created
itself (by id, a marker, or a created-time range starting at the test), never on counts of all.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from app import task_registry
from tests.conftest import wait_until
from tests.e2e.accessibility import no_axe_violations
from tests.e2e.test_dashboard import api_task, create_through_api, finished, row

pytestmark = pytest.mark.e2e

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def at(make_context, pages: list[Page], viewport: str, **options: Any):
    phone = viewport == "phone"
    context = make_context(viewport=VIEWPORTS[viewport], is_mobile=phone, has_touch=phone, **options)
    context.on("page", lambda page: pages.append(page))
    return context


def signed_in_page(make_context, pages: list[Page], viewport: str, signed_in_state: dict[str, Any]) -> Page:
    """A page of a signed-in context at ``viewport``, on the list."""
    page = at(make_context, pages, viewport, storage_state=signed_in_state).new_page()
    page.goto("/dashboard")
    expect(page.get_by_text("Signed in as")).to_be_visible()
    return page


@pytest.fixture(params=list(VIEWPORTS))
def console(request, make_context, signed_in_state: dict[str, Any], pages: list[Page]) -> Page:
    """A signed-in page, at desktop width and at phone width (touch, mobile viewport)."""
    # Not UTC, so that "local time" differs from it (+05:30 all year).
    context = at(
        make_context, pages, request.param, storage_state=signed_in_state, timezone_id="Asia/Kolkata"
    )
    page = context.new_page()
    page.goto("/dashboard")
    expect(page.get_by_text("Signed in as")).to_be_visible()
    return page


def since(start: float) -> str:
    return datetime.fromtimestamp(int(start), UTC).strftime("%Y-%m-%dT%H:%M:%S")


def failed_task(stack, **data) -> str:
    task_id = create_through_api(stack, "TASK2", {"marker": uuid.uuid4().hex, **data})
    assert finished(stack, task_id)["status"] == "FAILED"
    return task_id


def no_sideways_scroll(page: Page, state: str) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{state} scrolls sideways: {widths}"


def check_page(page: Page, state: str) -> None:
    """What every page state must be: no sideways scroll on a phone, no axe violation anywhere."""
    if page.viewport_size["width"] <= 400:
        no_sideways_scroll(page, state)
    no_axe_violations(page, state)


def show_filters(page: Page) -> None:
    """On a phone the filters are folded away on arrival (the first screen is the list): unfold them."""
    panel = page.locator("#filter-panel")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
    expect(page.locator("#filters")).to_be_visible()


def live_requests(page: Page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if "/dashboard/live" in request.url else None)
    return seen


# --- item 1: the live list ---------------------------------------------------------------------


def test_tasks_created_elsewhere_appear_on_top_without_a_reload_and_can_be_paused(console: Page, live_stack):
    console.goto("/dashboard?task_type=TASK2&range=15m")
    console.evaluate("window.notReloaded = true")
    check_page(console, "the list, live")
    counts = console.locator("#counts")
    counts.evaluate("nav => nav.dataset.before = 'yes'")

    first = create_through_api(live_stack, "TASK2", {"text": "from the API"})
    expect(console.locator("#task-rows tr.task-row").first).to_have_id(f"task-{first}")
    expect(row(console, first).locator(".badge")).to_have_text("COMPLETED")
    # The counts were drawn again by a live tick (a new element, without the mark).
    expect(console.locator("#counts[data-before]")).to_have_count(0)
    expect(console.locator("#live-announce")).to_contain_text("new task")

    toggle = console.get_by_role("button", name="Pause live updates")
    toggle.click()
    expect(console.get_by_role("button", name="Resume live updates")).to_have_attribute(
        "aria-pressed", "true"
    )
    requests = live_requests(console)
    paused_one = create_through_api(live_stack, "TASK2", {"text": "while paused"})
    console.evaluate("htmx.trigger('#live-poller', 'tasks-in-flight')")
    expect(row(console, paused_one)).to_have_count(0)
    assert requests == [], "a live request went out while paused"

    console.get_by_role("button", name="Resume live updates").click()
    expect(row(console, paused_one)).to_be_visible()
    assert console.evaluate("window.notReloaded") is True
    check_page(console, "the list after live inserts")


def test_the_offline_notice_is_drawn_in_the_viewport(console: Page):
    console.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    console.context.set_offline(True)
    notice = console.locator("#connection")
    try:
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("can't reach the server")
        box = notice.bounding_box()
        height = console.viewport_size["height"]
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= height, (box, height)
        check_page(console, "offline")
    finally:
        console.context.set_offline(False)
    expect(notice).to_be_hidden()


# --- item 2: the phone ------------------------------------------------------------------------------


def test_no_page_scrolls_sideways_at_390_px_and_axe_finds_nothing(
    make_context, signed_in_state, pages, live_stack
):
    page = at(make_context, pages, "phone", storage_state=signed_in_state).new_page()
    long_words = "x" * 300  # a message with no place to break
    failed = create_through_api(live_stack, "TASK1", {"fail": True, "fail_message": long_words})
    assert finished(live_stack, failed)["status"] == "FAILED"
    done = create_through_api(live_stack, "TASK1", {"duration_seconds": 0, "note": long_words})
    finished(live_stack, done)
    states = {
        "the task list": "/dashboard",
        "a filtered list with errors": "/dashboard?status=NOPE&created_from=yesterday&sort=x",
        "a failed task's page": f"/dashboard/tasks/{failed}",
        "a finished task's page": f"/dashboard/tasks/{done}",
        "retry with edited data": f"/dashboard/tasks/{failed}/clone",
        "confirming a retry": f"/dashboard/tasks/{failed}/retry",
        "retry all matching": "/dashboard/retry-matching?task_type=TASK2&range=15m",
        "find by 2 characters": f"/dashboard/find?id={failed[:2]}",
        "find: nothing": "/dashboard/find?id=ffffffff-ffff",
        "an unknown page": "/dashboard/no-such-page",
        "confirming a cancel": f"/dashboard/tasks/{scheduled_task(live_stack)}/cancel",
        "cancel all matching": "/dashboard/cancel-matching?task_type=TASK2&range=15m",
        "the stats": "/dashboard/stats",
        "the dead letters": "/dashboard/dead-letters",
        "confirming a redrive": "/dashboard/dead-letters/TASK2/redrive",
    }
    for state, path in states.items():
        page.goto(path)
        expect(page.locator("main h1").first).to_be_visible()
        check_page(page, state)
    signed_out = at(make_context, pages, "phone").new_page()
    signed_out.goto("/dashboard/login")
    check_page(signed_out, "sign-in")


# --- item 3: the list ---------------------------------------------------------------------------------


def test_back_after_load_more_returns_to_the_same_rows_and_place(console: Page, live_stack):
    start = time.time() - 1
    mine = [create_through_api(live_stack, "TASK2", {"text": f"row {n}"}) for n in range(10)]
    console.goto(f"/dashboard?task_type=TASK2&created_from={since(start)}&limit=3")
    rows = console.locator("#task-rows tr.task-row")
    for shown in (6, 9, 10):
        console.get_by_role("link", name="Load more").click()
        expect(rows).to_have_count(shown)
    expect(console).to_have_url(re.compile(r"through=\d{13}-"))
    last = row(console, mine[0])
    last.scroll_into_view_if_needed()
    console.evaluate("window.scrollBy(0, 40)")
    assert console.evaluate("window.scrollY") > 0
    place = last.evaluate("row => row.getBoundingClientRect().top")
    check_page(console, "the list after Load more")

    last.get_by_role("link", name="Open").click()
    expect(console).to_have_url(re.compile(rf"/dashboard/tasks/{mine[0]}$"))
    console.go_back()
    expect(rows).to_have_count(10)
    ids = [row_id.removeprefix("task-") for row_id in rows.evaluate_all("rows => rows.map(r => r.id)")]
    assert ids == list(reversed(mine))
    # The browser restores the place once the rebuilt page is as long as before: the row opened
    # is back in view where it was, give or take what changed above it meanwhile (the live
    # counts may wrap onto another line on a phone).
    expect(last).to_be_in_viewport()
    console.wait_for_function(
        "([id, top]) => Math.abs(document.getElementById(id).getBoundingClientRect().top - top) <= 100",
        arg=[f"task-{mine[0]}", place],
    )


def test_presets_order_and_the_time_zone(console: Page, live_stack):
    start = time.time() - 1
    slow = create_through_api(live_stack, "TASK1", {"duration_seconds": 2})
    quick = create_through_api(live_stack, "TASK1", {"duration_seconds": 0})
    for task_id in (slow, quick):
        finished(live_stack, task_id)
    console.goto(f"/dashboard?task_type=TASK1&created_from={since(start)}")
    show_filters(console)
    console.get_by_role("link", name="Created in the last 1 h").click()
    expect(console).to_have_url(re.compile(r"task_type=TASK1&range=1h$"))
    expect(console.get_by_role("link", name="Created in the last 1 h")).to_have_attribute(
        "aria-current", "true"
    )
    expect(console.locator("#count-scope")).to_contain_text("ignore the time range")

    console.get_by_label("Order").select_option("duration")
    expect(console).to_have_url(re.compile(r"sort=duration"))
    expect(console.locator("#sort-note")).to_contain_text("Ordered within the")
    ids = [
        i.removeprefix("task-")
        for i in console.locator("#task-rows tr.task-row").evaluate_all("r => r.map(x => x.id)")
    ]
    assert ids.index(slow) < ids.index(quick)
    check_page(console, "the list by duration, last hour")
    # A task that arrives live takes its place in the order shown: oldest first, it goes last.
    console.get_by_label("Order").select_option("oldest")
    expect(console).to_have_url(re.compile(r"sort=oldest"))
    newest = create_through_api(live_stack, "TASK1", {"duration_seconds": 0})
    expect(console.locator("#task-rows tr.task-row").last).to_have_id(f"task-{newest}")

    # Local time: exact times and the pickers in the browser's zone, sent back as UTC.
    console.goto(f"/dashboard/tasks/{slow}")
    created = console.locator("dd time[data-exact]").first
    expect(created).to_have_text(re.compile(r" UTC$"))
    console.get_by_role("button", name=re.compile("Times")).click()
    expect(created).to_have_text(re.compile(r" UTC[+-]\d\d:\d\d$"))
    check_page(console, "a task's page in local time")
    console.goto("/dashboard")
    show_filters(console)
    console.locator("#filter-from").fill("2030-01-02T03:04:05")
    console.get_by_role("button", name="Apply").click()
    expect(console).to_have_url(re.compile(r"created_from=2030-01-01T21%3A34%3A05"))  # 03:04:05 at +05:30
    expect(console.locator("#filter-from")).to_have_value("2030-01-02T03:04:05")


def test_find_by_the_short_id_the_list_shows(console: Page, live_stack):
    task_id = create_through_api(live_stack, "TASK2", {"text": "find me by my short id"})
    console.get_by_placeholder("Task id or short id").fill(task_id[:8])
    console.get_by_role("button", name="Find").click()
    expect(console).to_have_url(re.compile(rf"/dashboard/tasks/{task_id}$"))
    console.goto("/dashboard")
    console.get_by_placeholder("Task id or short id").fill("zz")
    console.get_by_role("button", name="Find").click()
    error = console.locator("#find-error")
    expect(error).to_have_attribute("role", "alert")
    expect(console.locator("#find-id")).to_be_focused()
    check_page(console, "find with an error")


# --- item 5: the task page ----------------------------------------------------------------------------


def test_retry_with_edited_data_and_every_attempt_on_the_task_page(console: Page, live_stack):
    # Crashes once, then completes: two attempts (the message comes back after 2 s locally).
    task_id = create_through_api(live_stack, "FLAKY", {"crash_attempts": 1})
    console.goto(f"/dashboard/tasks/{task_id}")
    attempts = console.locator("#attempts tr.attempt")
    expect(attempts).to_have_count(2, timeout=30_000)
    expect(attempts.nth(0)).to_have_class(re.compile("outcome-crashed"))
    expect(attempts.nth(0)).to_contain_text("crash requested for attempt 1")
    expect(attempts.nth(1)).to_have_class(re.compile("outcome-completed"))
    expect(console.locator("#queue-wait")).to_contain_text("from the timeline")
    check_page(console, "a task page with two attempts")

    failed = failed_task(live_stack)
    console.goto(f"/dashboard/tasks/{failed}")
    console.get_by_role("link", name="Retry with edited data").click()
    data = console.get_by_label("Data (a JSON object)")
    expect(data).to_have_value(re.compile('"marker"'))
    check_page(console, "retry with edited data")
    data.fill('{"text": "now it works"}')
    console.get_by_role("button", name="Create task").click()
    expect(console).not_to_have_url(re.compile(rf"/dashboard/tasks/{failed}"))
    expect(console.locator("#task-data")).to_contain_text('"text": "now it works"')
    expect(console.locator("#task-detail .badge")).to_have_text("COMPLETED")


# --- item 8: bulk actions -------------------------------------------------------------------------------


def test_select_all_and_bulk_retry_name_how_many_and_are_safe_to_repeat(console: Page, live_stack):
    # A second of its own: the filters below (created_from, in seconds) then see only
    # this test's tasks, not those of the same test at the other screen size just before.
    start = math.ceil(time.time())
    wait_until(lambda: time.time() >= start, timeout=2, what="the next second")
    failed = [failed_task(live_stack) for _ in range(2)]
    console.goto(f"/dashboard?status=FAILED&task_type=TASK2&created_from={since(start)}")
    button = console.locator("#bulk-retry-button")
    expect(button).to_be_disabled()
    select_all = console.get_by_label("Select every task shown")
    select_all.check()
    expect(button).to_be_enabled()
    expect(button).to_have_text("Retry selected failed tasks (2)")
    check_page(console, "the list with every failed task selected")
    dialogs: list[str] = []
    console.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    button.click()
    expect(console.locator("#alerts .notice").first).to_have_text("Retried 2 of 2 selected tasks.")
    assert dialogs and dialogs[0].startswith("Retry the 2 selected failed tasks?")
    check_page(console, "the list after a bulk retry")

    # Everything matching the filter: the confirmation names the count; twice retries nothing twice.
    # (TASK1 this time: the retries above fail again, as TASK2 tasks with the same data.)
    more = []
    for _ in range(2):
        more.append(create_through_api(live_stack, "TASK1", {"fail": True, "marker": uuid.uuid4().hex}))
        assert finished(live_stack, more[-1])["status"] == "FAILED"
    console.goto(f"/dashboard?status=FAILED&task_type=TASK1&created_from={since(start)}")
    console.get_by_role("link", name="Retry all failed tasks matching this filter…").click()
    expect(console.get_by_role("heading", name="Retry 2 failed tasks?")).to_be_visible()
    check_page(console, "confirming a retry of everything matching")
    console.go_back()
    console.get_by_role("link", name="Retry all failed tasks matching this filter…").click()
    expect(console.get_by_role("heading", name="Retry 2 failed tasks?")).to_be_visible()
    confirmation = console.locator("#confirm-matching form")
    form = {
        "ids": confirmation.locator("input[name='ids']").evaluate_all("inputs => inputs.map(i => i.value)"),
        "csrf_token": confirmation.locator("input[name='csrf_token']").get_attribute("value"),
    }
    assert sorted(form["ids"]) == sorted(more)
    console.get_by_role("button", name="Retry 2 tasks").click()
    expect(console.locator("#bulk-outcome")).to_contain_text("Retried 2 of 2 selected tasks.")
    check_page(console, "what a bulk retry did")
    retries = {task_id: api_task(live_stack, task_id)["retried_as"] for task_id in [*failed, *more]}
    assert all(retries.values())

    # The same confirmation sent again (a double click, a resubmitted form) retries nothing twice.
    again = console.context.request.post(
        f"{live_stack.base_url}/dashboard/retry",
        multipart=None,
        form={"csrf_token": form["csrf_token"], "ids": form["ids"][0], "back": "/dashboard"},
    )
    assert again.status == 200 and "had been retried before" in again.text()
    assert {task_id: api_task(live_stack, task_id)["retried_as"] for task_id in retries} == retries


# --- item 4: cancel -----------------------------------------------------------------------------------


def scheduled_task(stack, task_type: str = "TASK2", **data: Any) -> str:
    """A task due in an hour: it stays SCHEDULED, in flight, until cancelled."""
    body = {"task_type": task_type, "data": {"text": "later", "marker": uuid.uuid4().hex, **data}}
    response = httpx.post(
        f"{stack.base_url}/tasks",
        json={**body, "run_at": int(time.time()) + 3600},
        headers=stack.headers,
        timeout=5,
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def accept_next_dialog(page: Page) -> list[str]:
    seen: list[str] = []
    page.once("dialog", lambda dialog: (seen.append(dialog.message), dialog.accept()))
    return seen


def test_cancel_from_a_row_and_from_a_running_tasks_page_and_the_timeline_says_who(console: Page, live_stack):
    start = math.ceil(time.time())
    wait_until(lambda: time.time() >= start, timeout=2, what="the next second")
    later = scheduled_task(live_stack)
    console.goto(f"/dashboard?task_type=TASK2&created_from={since(start)}")
    later_row = row(console, later)
    expect(later_row.locator(".badge")).to_have_text("SCHEDULED")
    check_page(console, "the list with a scheduled task")
    asked = accept_next_dialog(console)
    later_row.get_by_role("link", name=f"Cancel task {later[:8]}").click()
    expect(later_row.locator(".badge")).to_have_text("CANCELLED")
    assert asked and asked[0].startswith(f"Cancel task {later[:8]} (TASK2, SCHEDULED)?")
    expect(console.locator("#alerts .notice")).to_have_text(f"Task {later[:8]} was cancelled.")
    check_page(console, "the list after a cancel")

    # A running task: its worker is told at its next progress report.
    running = create_through_api(live_stack, "TASK1", {"duration_seconds": 20, "marker": uuid.uuid4().hex})
    wait_until(
        lambda: api_task(live_stack, running)["status"] == "IN_PROGRESS", timeout=20, what="it to start"
    )
    console.goto(f"/dashboard/tasks/{running}")
    asked = accept_next_dialog(console)
    console.locator("#task-detail").get_by_role("link", name=f"Cancel task {running[:8]}").click()
    expect(console.locator("#task-detail .badge")).to_have_text("CANCELLED", timeout=15_000)
    assert "Its worker stops at its next progress report" in asked[0]
    expect(console.locator("#cancel-requested")).to_have_text("cancelled by admin")
    timeline = console.locator("#timeline")
    expect(timeline).to_contain_text("cancel requested by admin")
    expect(timeline).to_contain_text("dashboard")
    expect(console.get_by_role("link", name="Retry with edited data")).to_be_visible()
    check_page(console, "a task cancelled while running")


def test_bulk_cancel_with_select_all_then_all_matching_names_the_count(console: Page, live_stack):
    start = math.ceil(time.time())
    wait_until(lambda: time.time() >= start, timeout=2, what="the next second")
    first = [scheduled_task(live_stack, "TASK1") for _ in range(2)]
    listing = f"/dashboard?status=SCHEDULED&task_type=TASK1&created_from={since(start)}"
    console.goto(listing)
    button = console.locator("#bulk-cancel-button")
    expect(button).to_be_disabled()
    console.get_by_label("Select every task shown").check()
    expect(button).to_have_text("Cancel selected tasks in flight (2)")
    asked = accept_next_dialog(console)
    button.click()
    expect(console.locator("#alerts .notice").first).to_have_text("Cancelled 2 of 2 selected tasks.")
    assert asked and asked[0].startswith("Cancel the 2 selected tasks in flight?")
    expect(button).to_be_disabled()
    check_page(console, "the list after a bulk cancel")

    more = [scheduled_task(live_stack, "TASK1") for _ in range(3)]
    console.goto(listing)
    console.get_by_role("link", name="Cancel all tasks in flight matching this filter…").click()
    expect(console.get_by_role("heading", name="Cancel 3 tasks in flight?")).to_be_visible()
    check_page(console, "confirming a cancel of everything matching")
    console.get_by_role("button", name="Cancel 3 tasks").click()
    expect(console.locator("#bulk-outcome")).to_contain_text("Cancelled 3 of 3 selected tasks.")
    check_page(console, "what a bulk cancel did")
    # Again: nothing is left to cancel, and nothing is cancelled twice.
    console.goto(listing.replace("/dashboard?", "/dashboard/cancel-matching?"))
    expect(console.get_by_role("heading", name="Nothing to cancel")).to_be_visible()
    assert {api_task(live_stack, task_id)["status"] for task_id in [*first, *more]} == {"CANCELLED"}


# --- item 5: results and errors -----------------------------------------------------------------------


def test_a_completed_tasks_result_is_shown_and_folds(console: Page, live_stack):
    done = create_through_api(live_stack, "TASK2", {"text": "three small words"})
    assert finished(live_stack, done)["status"] == "COMPLETED"
    console.goto(f"/dashboard/tasks/{done}")
    result = console.locator("#task-result")
    expect(result).to_contain_text('"words": 3')
    check_page(console, "a task's result")
    console.locator("#result summary").click()
    expect(result).to_be_hidden()
    expect(console.locator("#attempts")).to_contain_text("completed")


# --- items 6 and 7: stats and dead letters -----------------------------------------------------------


def test_stats_per_type_as_charts_refreshed_in_place(console: Page, live_stack):
    done = create_through_api(live_stack, "TASK2", {"text": "counted"})
    finished(live_stack, done)
    console.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Stats").click()
    expect(console.get_by_role("heading", name="Stats", level=1)).to_be_visible()
    section = console.locator("#stats-TASK2-hour")
    # The changes function counts it from the stream within a few seconds.
    wait_until(
        lambda: (console.reload() or True) and int(section.locator(".completed-total").inner_text()) >= 1,
        timeout=15,
        what="the stats to count the task",
    )
    # Created and completed on one chart; failed and cancelled on a scale of their own.
    expect(section.locator("svg.rate-chart polyline")).to_have_count(4)
    expect(section.locator("svg.failures-chart polyline")).to_have_count(2)
    expect(section.locator(".failure-rate")).to_contain_text(re.compile(r"%|—"))
    expect(section.locator(".queue-wait")).to_contain_text(re.compile(r"≈ [\d.]+ (ms|s)|< 1 ms"))
    expect(console.locator("#stats-TASK1-day svg.failures-chart")).to_be_visible()
    # A minute's values are its column's tooltip.
    last_minute = section.locator("svg.failures-chart rect.slot").last
    expect(last_minute.locator("title")).to_have_text(
        re.compile(r"^\d\d:\d\d UTC: \d+ failed, \d+ cancelled$")
    )
    last_minute.hover()
    check_page(console, "the stats")
    console.evaluate("document.querySelector('#stats').setAttribute('data-before', 'yes')")
    console.evaluate("htmx.ajax('GET', location.pathname, {target: '#stats', swap: 'outerHTML'})")
    expect(console.locator("#stats[data-before]")).to_have_count(0)
    expect(console.locator("#stats-TASK2-hour svg.failures-chart")).to_be_visible()


def test_dead_letters_show_every_queue_and_redrive_asks_first(console: Page):
    console.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Dead letters").click()
    expect(console.get_by_role("heading", name="Dead letters", level=1)).to_be_visible()
    for key in (*task_registry.names(), "publisher-failures"):
        expect(console.locator(f"#queue-{key} .depth")).to_contain_text(re.compile(r"^\d+ "))
    check_page(console, "the dead letters")
    # The local deadLetters function drains a DLQ within seconds, so here it is (almost always) empty:
    # the redrive page then says so. tests/integration/test_dashboard_stats_and_dead_letters.py redrives.
    console.goto("/dashboard/dead-letters/TASK1/redrive")
    expect(console.locator("#confirm-redrive h1")).to_have_text(
        re.compile(r"^(Nothing to redrive|Redrive \d+ dead letters?\?|A redrive is running)$")
    )
    check_page(console, "confirming a redrive")
    console.goto("/dashboard/dead-letters/publisher-failures/redrive")
    expect(console.get_by_role("heading", name="Page not found")).to_be_visible()


# --- item 9: edges ----------------------------------------------------------------------------------------


def test_keyboard_users_skip_to_the_results_or_the_content_and_errors_take_the_focus(console: Page):
    # The list's first stop skips to its rows; the next one to the content.
    console.keyboard.press("Tab")
    skip = console.get_by_role("link", name="Skip to results")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    console.keyboard.press("Enter")
    expect(console.locator("#task-table")).to_be_focused()
    console.goto("/dashboard")
    console.keyboard.press("Tab")
    console.keyboard.press("Tab")
    skip = console.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    console.keyboard.press("Enter")
    expect(console.locator("main")).to_be_focused()

    # The first screen is the list: New task is a button that opens the form.
    expect(console.locator("#create-form")).to_be_hidden()
    console.locator("#new-task").get_by_text("New task", exact=True).click()
    console.locator("#create-data").fill("{not json")
    console.get_by_role("button", name="Create task").click()
    expect(console.locator("#create-data-error")).to_have_attribute("role", "alert")
    expect(console.locator("#create-data")).to_be_focused()
    check_page(console, "the create form with an error")

    console.goto("/dashboard/no-such-page")
    expect(console.get_by_role("heading", name="Page not found")).to_be_visible()
    console.goto("/dashboard/rows")
    expect(console.get_by_role("heading", name="Bad request")).to_be_visible()
    check_page(console, "a 400 page")


def test_count_chips_show_that_they_are_loading(console: Page):
    # Hold the next results request, and look at the chips while it is out.
    release: list[Any] = []
    console.route("**/dashboard?status=COMPLETED*", lambda route: release.append(route))
    console.locator("#counts a[data-status='COMPLETED']").click()
    expect(console.locator("#counts")).to_have_attribute("aria-busy", "true")
    number = console.locator("#counts a[data-status='FAILED'] .number")
    assert number.evaluate("n => getComputedStyle(n, '::after').content") == '"…"'
    deadline = time.monotonic() + 10
    while not release and time.monotonic() < deadline:
        console.wait_for_timeout(20)  # lets Playwright run the route handler
    release[0].continue_()
    expect(console).to_have_url(re.compile(r"status=COMPLETED"))
    expect(console.locator("#counts")).not_to_have_attribute("aria-busy", "true")
