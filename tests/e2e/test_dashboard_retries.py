"""Retrying as a filter with its count, and a task between attempts whose run time stands still
(issue 19, item 2), in Chromium at 1280 px and 390 px, with axe-core on the states reached.

A stack of its own, whose backoff after a crash is two minutes (RETRY_DELAYS=120), so that one
FLAKY task stays between attempts for the whole module and the counts are this module's alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveStack, start_stack, wait_until
from tests.e2e.conftest import sign_in
from tests.e2e.test_dashboard import api_task, create_through_api
from tests.e2e.test_dashboard_console import at, check_page, show_filters

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def slow_retries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveStack, str]]:
    """The stack, and a FLAKY task whose first attempt crashed: waiting two minutes for its next."""
    stack = start_stack(tmp_path_factory.mktemp("slow-retries"), RETRY_DELAYS="120", LOCAL_PRINT_HOPS="false")
    try:
        task_id = create_through_api(stack, "FLAKY", {"crash_attempts": 1})
        wait_until(
            lambda: api_task(stack, task_id)["retry_state"] == "retrying",
            timeout=30,
            interval=0.2,
            what="the task to crash and wait for its next attempt",
        )
        yield stack, task_id
    finally:
        stack.stop()


@pytest.fixture(params=["desktop", "phone"])
def page(request, make_context, pages: list[Page], slow_retries) -> Page:
    stack, _ = slow_retries
    context = at(make_context, pages, request.param, base_url=stack.base_url)
    page: Page = context.new_page()
    page.goto("/dashboard")
    sign_in(page)
    expect(page.get_by_text("Signed in as")).to_be_visible()
    return page


def test_the_retrying_filter_has_its_count_and_a_retrying_row_s_run_time_stands_still(
    page: Page, slow_retries: tuple[LiveStack, str]
):
    _, task_id = slow_retries
    counts = page.get_by_role("navigation", name="Tasks per status")
    retrying = counts.locator('a[data-retry-state="retrying"]')
    # Counted as retrying, not as running: the IN_PROGRESS chip counts the tasks running now.
    expect(retrying.locator(".number")).to_have_text("1")
    expect(counts.locator('a[data-retry-state="none"] .number')).to_have_text("0")
    expect(counts.locator('a[data-retry-state="gave_up"] .number')).to_have_text("0")
    check_page(page, "the list with the retry counts")

    retrying.click()
    expect(page).to_have_url(re.compile(r"status=IN_PROGRESS&retry_state=retrying"))
    expect(retrying).to_have_attribute("aria-current", "true")
    row = page.locator(f"#task-{task_id}")
    expect(page.locator("#task-rows tr.task-row")).to_have_count(1)
    expect(row.locator(".badge-retrying")).to_have_text("RETRYING")
    expect(row).to_contain_text("attempt 2 of 5, next at")

    # The run time stands at the crash: no ticker, and the same a few seconds on.
    run_time = row.locator("td.duration")
    expect(run_time.locator(".ticking")).to_have_count(0)
    before = run_time.inner_text()
    page.wait_for_timeout(2500)  # what a ticker would have moved in the meantime: two of its seconds
    assert run_time.inner_text() == before
    show_filters(page)
    expect(page.get_by_label("Retries")).to_have_value("retrying")
    check_page(page, "the retrying filter")


def test_the_retry_filter_works_as_a_plain_form_without_javascript(make_context, pages, slow_retries):
    stack, task_id = slow_retries
    context = at(make_context, pages, "desktop", base_url=stack.base_url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/dashboard")
    sign_in(page)
    page.get_by_label("Retries").select_option("retrying")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"retry_state=retrying"))
    expect(page.locator("#task-rows tr.task-row")).to_have_count(1)
    expect(page.locator(f"#task-{task_id}")).to_be_visible()
    response = httpx.get(
        f"{stack.base_url}/tasks", params={"retry_state": "retrying"}, headers=stack.headers, timeout=5
    )
    assert [task["id"] for task in response.json()["tasks"]] == [task_id]
