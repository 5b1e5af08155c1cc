"""Live updates never move what the operator is using (issue 19, item 1), in Chromium at 1280 px
and 390 px, against `python -m app.local`, with axe-core on the states reached.

Rows and a task's page are morphed in place (static/app.js), new rows wait behind a bar while
the pointer is over the list, the focus is inside it or it is scrolled, a filter change in
flight is replaced by the next one, and rows arriving in one tick go in newest first.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import wait_until
from tests.e2e.test_dashboard import api_task, create_through_api, row
from tests.e2e.test_dashboard_console import check_page, show_filters, signed_in_page, since

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["desktop", "phone"])
def console(request, make_context, signed_in_state: dict[str, Any], pages: list[Page]) -> Page:
    return signed_in_page(make_context, pages, request.param, signed_in_state)


@pytest.fixture
def desktop(make_context, signed_in_state: dict[str, Any], pages: list[Page]) -> Page:
    return signed_in_page(make_context, pages, "desktop", signed_in_state)


def own_second() -> int:
    """The start of a second of this test's own: a created_from filter then sees only its tasks."""
    start = math.ceil(time.time())
    wait_until(lambda: time.time() >= start, timeout=2, what="the next second")
    return start


def running_task(stack, seconds: int = 20) -> str:
    task_id = create_through_api(stack, "TASK1", {"duration_seconds": seconds, "marker": uuid.uuid4().hex})
    wait_until(lambda: api_task(stack, task_id)["status"] == "IN_PROGRESS", timeout=20, what="it to start")
    return task_id


def cancel(stack, task_id: str) -> None:
    httpx.post(f"{stack.base_url}/tasks/{task_id}/cancel", headers=stack.headers, timeout=5)


def row_ids(page: Page) -> list[str]:
    ids = page.locator("#task-rows tr.task-row").evaluate_all("rows => rows.map(r => r.id)")
    return [row_id.removeprefix("task-") for row_id in ids]


def test_the_element_under_the_pointer_stays_there_while_tasks_arrive(desktop: Page, live_stack):
    page = desktop
    start = own_second()
    shown = [create_through_api(live_stack, "TASK2", {"text": f"row {n}"}) for n in range(3)]
    page.goto(f"/dashboard?task_type=TASK2&created_from={since(start)}")
    for task_id in shown:
        expect(row(page, task_id).locator(".badge")).to_have_text("COMPLETED")
    target = row(page, shown[1]).get_by_role("link", name="Open")
    box = target.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    under = "([x, y]) => document.elementFromPoint(x, y)"
    page.evaluate(f"([x, y]) => {{ ({under})([x, y]).underPointer = true }}", [x, y])

    arrived = [create_through_api(live_stack, "TASK2", {"text": f"new {n}"}) for n in range(2)]
    bar = page.locator("#held-bar button")
    expect(bar).to_have_text("2 new tasks: show them")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/dashboard/live" in r.url else None)
    wait_until(lambda: page.wait_for_timeout(50) or len(requests) >= 2, timeout=10, what="two more ticks")
    assert page.evaluate(f"([x, y]) => ({under})([x, y]).underPointer === true", [x, y])
    assert row_ids(page) == list(reversed(shown)), "a row was inserted while the pointer was on the list"
    check_page(page, "the list with new tasks held")

    bar.click()
    expect(page.locator("#task-rows tr.task-row")).to_have_count(5)
    assert row_ids(page) == [*reversed(arrived), *reversed(shown)]
    expect(page.locator("#held-bar")).to_be_hidden()

    # Pointer away from the list: the next arrivals go straight in on top.
    page.mouse.move(5, 5)
    later = create_through_api(live_stack, "TASK2", {"text": "later"})
    expect(page.locator("#task-rows tr.task-row").first).to_have_id(f"task-{later}")


def test_a_row_below_a_task_that_ends_stays_where_it_was(desktop: Page, live_stack):
    """A running task's row has a progress bar; when the task ends the bar goes, and the row keeps
    its height, so the rows below never move under the pointer."""
    page = desktop
    start = own_second()
    below = create_through_api(live_stack, "TASK2", {"text": "below"})
    wait_until(lambda: api_task(live_stack, below)["status"] == "COMPLETED", timeout=20, what="it to end")
    running = running_task(live_stack, seconds=3)
    page.goto(f"/dashboard?created_from={since(start)}")
    expect(row(page, running).locator("progress.mini")).to_be_visible()
    top = row(page, below).bounding_box()["y"]
    expect(row(page, running).locator(".badge")).to_have_text("COMPLETED", timeout=20_000)
    assert row(page, below).bounding_box()["y"] == top


def test_keyboard_focus_survives_every_tick_and_enter_still_works(console: Page, live_stack):
    page = console
    start = own_second()
    running = running_task(live_stack)
    try:
        page.goto(f"/dashboard?task_type=TASK1&created_from={since(start)}")
        badge = row(page, running).locator(".badge")
        expect(badge).to_contain_text("IN_PROGRESS")
        cancel_link = row(page, running).get_by_role("link", name=f"Cancel task {running[:8]}")
        cancel_link.focus()
        page.evaluate("document.activeElement.focusedBefore = true")
        first = badge.inner_text()
        expect(badge).not_to_have_text(first)  # a tick redrew the row's progress
        second = badge.inner_text()
        expect(badge).not_to_have_text(second)
        # A task arriving meanwhile waits: the focus is inside the list.
        arrived = create_through_api(live_stack, "TASK1", {"duration_seconds": 0})
        expect(page.locator("#held-bar button")).to_have_text("1 new task: show it")
        assert page.evaluate("document.activeElement.focusedBefore") is True
        expect(cancel_link).to_be_focused()
        check_page(page, "the list with the focus on a running row's Cancel")

        page.once("dialog", lambda dialog: dialog.accept())
        page.keyboard.press("Enter")
        expect(badge).to_have_text("CANCELLED", timeout=15_000)
        # The cancelled row was drawn again, the focus with it: the list is left alone, the row goes in.
        expect(page.locator("#task-rows tr.task-row").first).to_have_id(f"task-{arrived}")
    finally:
        cancel(live_stack, running)


def test_an_open_details_stays_open_and_the_timeline_grows_in_place(console: Page, live_stack):
    page = console
    running = running_task(live_stack)
    try:
        page.goto(f"/dashboard/tasks/{running}")
        everything = page.locator("#task-detail details").filter(has_text="Everything, as the API returns it")
        everything.locator("summary").click()
        expect(everything).to_have_attribute("open", "")
        events = page.locator("#timeline-events tr.event")
        expect(events.first).to_be_visible()
        count = events.count()
        events.first.evaluate("row => { row.seenBefore = true }")
        progress = page.locator("#task-detail .progress-text")
        shown = progress.inner_text()
        expect(progress).not_to_have_text(shown)
        # More progress events, appended below the ones shown.
        grown = "n => document.querySelectorAll('#timeline-events tr.event').length > n"
        page.wait_for_function(grown, arg=count)
        assert events.first.evaluate("row => row.seenBefore") is True  # the same node: appended to
        expect(everything).to_have_attribute("open", "")
        check_page(page, "a running task's page with a details open")
    finally:
        cancel(live_stack, running)


def test_two_fast_filter_changes_both_apply(console: Page):
    page = console
    held: list[Any] = []

    def hold_the_first(route):
        if not held:
            held.append(route)
        else:
            route.continue_()

    page.evaluate("document.addEventListener('htmx:abort', () => { window.filterAborts = 1 })")
    page.route(re.compile(r"/dashboard\?status="), hold_the_first)
    show_filters(page)
    page.locator("#filter-status").select_option("COMPLETED")
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(20)  # lets Playwright run the route handler
    assert held, "the first filter change sent no request"
    page.locator("#filter-type").select_option("TASK2")
    expect(page).to_have_url(re.compile(r"status=COMPLETED&task_type=TASK2"))
    # The first request was given up for the second (hx-sync replace): its answer can't land late.
    page.wait_for_function("window.filterAborts === 1")
    held[0].abort()  # what the network would do with it; htmx no longer listens
    expect(page).to_have_url(re.compile(r"status=COMPLETED&task_type=TASK2"))
    expect(page.locator("#filter-status")).to_have_value("COMPLETED")
    expect(page.locator("#filter-type")).to_have_value("TASK2")
    expect(page.locator("#counts a[aria-current='true']")).to_have_attribute("data-status", "COMPLETED")
    check_page(page, "the list after two fast filter changes")


def test_twenty_tasks_arriving_in_one_tick_go_in_newest_first(console: Page, live_stack):
    page = console
    start = own_second()
    page.goto(f"/dashboard?task_type=TASK2&created_from={since(start)}")
    page.get_by_role("button", name="Pause live updates").click()
    expect(page.locator("#live-paused")).to_be_visible()
    check_page(page, "the list, paused")
    created = [create_through_api(live_stack, "TASK2", {"text": f"burst {n}"}) for n in range(20)]
    page.get_by_role("button", name="Resume live updates").click()
    expect(page.locator("#live-paused")).to_be_hidden()
    rows = page.locator("#task-rows tr.task-row")
    expect(rows).to_have_count(20)
    keys = rows.evaluate_all("rows => rows.map(r => r.dataset.key)")
    assert keys == sorted(keys, reverse=True), "not newest first"
    assert sorted(row_ids(page)) == sorted(created)
    expect(page.locator("#live-announce")).to_contain_text("20 new tasks")


def test_new_rows_wait_while_the_list_is_scrolled_into(console: Page, live_stack):
    page = console
    start = own_second()
    for n in range(30):
        create_through_api(live_stack, "TASK2", {"text": f"row {n}"})
    page.goto(f"/dashboard?task_type=TASK2&created_from={since(start)}&limit=50")
    expect(page.locator("#task-rows tr.task-row")).to_have_count(30)
    page.evaluate(
        "window.scrollBy(0, document.querySelector('#task-table').getBoundingClientRect().top + 100)"
    )
    page.mouse.move(1, 1)  # the pointer off the list: only the scroll holds them
    assert page.evaluate("document.querySelector('#task-table').getBoundingClientRect().top") < 0
    arrived = create_through_api(live_stack, "TASK2", {"text": "while scrolled"})
    expect(page.locator("#held-bar button")).to_have_text("1 new task: show it")
    expect(page.locator(f"#task-rows #task-{arrived}")).to_have_count(0)
    check_page(page, "the list scrolled, a new task held")
    page.evaluate("window.scrollTo(0, 0)")
    expect(page.locator("#task-rows tr.task-row").first).to_have_id(f"task-{arrived}")
    expect(page.locator("#held-bar")).to_be_hidden()
