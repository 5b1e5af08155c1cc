"""The console works with the operator (issue 19, items 2 to 4), in Chromium at 1280 px and 390 px,
against `python -m app.local`, with axe-core on the states reached: the first screen is the list,
one notice at a time, Pause only with JavaScript, resend a webhook, retries lineage-safe.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_dashboard import api_task, create_through_api, finished
from tests.e2e.test_dashboard_console import at, check_page, signed_in_page

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["desktop", "phone"])
def console(request, make_context, signed_in_state: dict[str, Any], pages: list[Page]) -> Page:
    return signed_in_page(make_context, pages, request.param, signed_in_state)


def with_callback(stack) -> str:
    response = httpx.post(
        f"{stack.base_url}/tasks",
        json={
            "task_type": "TASK2",
            "data": {"text": "call me back", "marker": uuid.uuid4().hex},
            # Nothing listens there: the webhook's sends fail, which is all a resend needs.
            "callback_url": "http://127.0.0.1:9/hook",
        },
        headers=stack.headers,
        timeout=5,
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


# --- item 2: the first screen is the list ------------------------------------------------------------


def test_the_first_screen_is_the_list_and_its_first_stop_skips_to_it(console: Page, live_stack):
    create_through_api(live_stack, "TASK2", {"text": "a row to reach"})
    console.reload()
    # The first row is on the first screen, at 1280 and at 390 px (the filters fold away on a phone).
    expect(console.locator("#task-rows tr.task-row").first).to_be_in_viewport()
    expect(console.locator("#create-form")).to_be_hidden()
    expect(console.locator("#new-task summary")).to_be_visible()
    console.keyboard.press("Tab")
    expect(console.get_by_role("link", name="Skip to results")).to_be_focused()
    console.keyboard.press("Enter")
    console.keyboard.press("Tab")
    first_row = console.locator("#task-rows tr.task-row").first
    focused_in_row = "row => row.contains(document.activeElement)"
    console.wait_for_function(f"() => ({focused_in_row})(document.querySelector('#task-rows tr.task-row'))")
    expect(first_row).to_be_in_viewport()
    check_page(console, "the first screen")


def test_pause_is_offered_only_with_javascript_and_says_when_it_is_on(
    make_context, signed_in_state, pages, console: Page
):
    no_script = at(make_context, pages, "desktop", storage_state=signed_in_state, java_script_enabled=False)
    page = no_script.new_page()
    page.goto("/dashboard")
    expect(page.get_by_text("Signed in as")).to_be_visible()
    expect(page.locator("#live-toggle")).to_be_hidden()
    expect(page.locator("#live-paused")).to_be_hidden()

    expect(console.locator("#live-paused")).to_be_hidden()
    console.get_by_role("button", name="Pause live updates").click()
    expect(console.locator("#live-paused")).to_be_visible()
    check_page(console, "the list, paused")
    console.reload()  # kept for the tab
    expect(console.locator("#live-paused")).to_be_visible()
    console.get_by_role("button", name="Resume live updates").click()
    expect(console.locator("#live-paused")).to_be_hidden()


def test_one_notice_at_a_time(console: Page):
    failing = console.locator("#live-status .alert")
    offline = console.locator("#connection")
    console.route(re.compile(r"/dashboard/live"), lambda route: route.fulfill(status=500, body="boom"))
    expect(failing).to_contain_text("The server answered 500")
    expect(offline).to_be_hidden()
    check_page(console, "a server error")

    console.context.set_offline(True)
    try:
        expect(offline).to_be_visible()
        expect(failing).to_have_count(0)
    finally:
        console.context.set_offline(False)
    expect(failing).to_contain_text("The server answered 500")
    expect(offline).to_be_hidden()

    console.unroute(re.compile(r"/dashboard/live"))
    expect(failing).to_have_count(0)
    expect(offline).to_be_hidden()


def test_resend_webhook_on_a_task_that_has_a_callback(console: Page, live_stack, make_context, pages):
    task_id = with_callback(live_stack)
    finished(live_stack, task_id)
    plain = create_through_api(live_stack, "TASK2", {"text": "no callback"})
    finished(live_stack, plain)
    console.goto(f"/dashboard/tasks/{plain}")
    expect(console.locator("#task-detail h1")).to_be_visible()
    expect(console.get_by_role("button", name="Resend webhook")).to_have_count(0)

    console.goto(f"/dashboard/tasks/{task_id}")
    console.get_by_role("button", name="Resend webhook").click()
    expect(console.locator("#alerts .notice")).to_have_text(
        re.compile(rf"The webhook of task {task_id[:8]} is queued again \(send \d+\)\.")
    )
    check_page(console, "a webhook resent")
    assert api_task(live_stack, task_id)["callback_url"]


# --- item 3: retries lineage-safe -------------------------------------------------------------------------


def test_a_retried_task_offers_its_retry_and_the_retry_names_its_generation(console: Page, live_stack):
    failed = create_through_api(live_stack, "TASK1", {"fail": True, "marker": uuid.uuid4().hex})
    assert finished(live_stack, failed)["status"] == "FAILED"
    console.goto(f"/dashboard/tasks/{failed}")
    console.once("dialog", lambda dialog: dialog.accept())
    console.locator("#task-detail").get_by_role("link", name=f"Retry task {failed[:8]}").click()
    expect(console).not_to_have_url(re.compile(rf"/dashboard/tasks/{failed}$"))
    first_retry = console.url.rsplit("/", 1)[1]
    expect(console.locator("#retry-of")).to_contain_text(f"(retry 1 of {failed[:8]})")
    assert finished(live_stack, first_retry)["status"] == "FAILED"  # the same bad data fails again

    # Retry with edited data, from the retry: a retry too, generation 2, linked both ways.
    console.goto(f"/dashboard/tasks/{first_retry}")
    console.get_by_role("link", name="Retry with edited data").click()
    console.get_by_label("Data (a JSON object)").fill('{"duration_seconds": 0}')
    console.get_by_role("button", name="Create task").click()
    expect(console.locator("#retry-of")).to_contain_text(f"(retry 2 of {failed[:8]})")
    second_retry = console.url.rsplit("/", 1)[1]
    check_page(console, "a retry's page naming its generation")
    assert api_task(live_stack, first_retry)["retried_as"] == second_retry

    # Its original offers the retry, not Retry, on its page and on its row.
    console.goto(f"/dashboard/tasks/{first_retry}")
    expect(console.locator("#open-retry")).to_have_attribute("href", f"/dashboard/tasks/{second_retry}")
    expect(console.get_by_role("link", name=f"Retry task {first_retry[:8]}")).to_have_count(0)
    expect(console.get_by_role("link", name="Clone")).to_be_visible()
    console.goto("/dashboard?status=FAILED&task_type=TASK1&range=15m")
    original_row = console.locator(f"#task-{failed}")
    expect(original_row.get_by_role("link", name=f"Open the retry of task {failed[:8]}")).to_be_visible()
    expect(original_row.get_by_role("link", name=f"Retry task {failed[:8]}")).to_have_count(0)
    check_page(console, "the list with a retried task")


# --- item 4: dead letters (tests/integration/test_dashboard_stats_and_dead_letters.py acts on messages:
# here the local deadLetters function drains a DLQ within seconds) ---------------------------------------


def test_the_dead_letter_pages_pass_axe_at_both_widths(console: Page):
    console.goto("/dashboard/dead-letters/TASK1/purge")
    expect(console.locator("#confirm-purge h1")).to_have_text(
        re.compile(r"^(Nothing to delete|Delete \d+ messages?\?)$")
    )
    check_page(console, "confirming a delete of every dead letter")
    console.goto(f"/dashboard/dead-letters/TASK1/messages/{uuid.uuid4()}")
    expect(console.locator("#dead-letter h1")).to_contain_text("is not in the queue")
    check_page(console, "a dead letter that is gone")
    console.goto("/dashboard/dead-letters")
    for key in ("TASK1", "TASK2", "publisher-failures"):
        panel = console.locator(f"#queue-{key}")
        expect(panel.locator(".depth")).to_be_visible()
        depth = int(panel.locator(".depth").inner_text().split()[0].replace(",", ""))
        if depth:
            expect(panel.locator(".empty")).to_have_count(0)


# --- item 5: the queues view ------------------------------------------------------------------------------


def test_the_queues_view_per_type(console: Page):
    console.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Queues").click()
    expect(console.get_by_role("heading", name="Queues", level=1)).to_be_visible()
    for task_type in ("TASK1", "TASK2"):
        queue_row = console.locator(f"#queue-row-{task_type}")
        expect(queue_row.locator(".waiting")).to_have_text(re.compile(r"^\d+"))
        expect(queue_row.locator(".dlq-depth")).to_have_text(re.compile(r"^\d+$"))
    check_page(console, "the queues view")
