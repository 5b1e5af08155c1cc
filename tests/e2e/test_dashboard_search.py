"""Search from the task list (issue 19, item 6), in Chromium at 1280 px and 390 px, against
`python -m app.local` (its changes function keeps the index), with axe-core on the states reached."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import wait_until
from tests.e2e.test_dashboard import create_through_api, row
from tests.e2e.test_dashboard_console import at, check_page, show_filters, signed_in_page

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["desktop", "phone"])
def console(request, make_context, signed_in_state: dict[str, Any], pages: list[Page]) -> Page:
    return signed_in_page(make_context, pages, request.param, signed_in_state)


def indexed(stack, q: str, count: int) -> None:
    def found():
        response = httpx.get(f"{stack.base_url}/tasks", params={"q": q}, headers=stack.headers, timeout=5)
        return len(response.json()["tasks"]) == count

    wait_until(found, timeout=20, interval=0.2, what=f"{count} task(s) found by {q!r}")


def test_search_from_the_list_keeps_it_in_the_address_and_says_what_is_wrong(console: Page, live_stack):
    word = f"srch{uuid.uuid4().hex[:8]}"
    wanted = create_through_api(live_stack, "TASK2", {"text": f"Invoice {word} alpha"})
    other = create_through_api(live_stack, "TASK2", {"text": f"Invoice {word} beta"})
    indexed(live_stack, word, 2)

    show_filters(console)
    words = console.locator("#filters").get_by_label("Words")
    words.fill(f"{word.upper()} Alpha")
    words.press("Enter")
    expect(console).to_have_url(re.compile(rf"[?&]q={word.upper()}\+Alpha"))
    expect(row(console, wanted)).to_be_visible()
    expect(row(console, other)).to_have_count(0)
    expect(console.locator("#filter-panel summary")).to_contain_text(f"with the words {word} alpha")
    check_page(console, "the list searched")

    console.reload()  # the address keeps the search
    expect(row(console, wanted)).to_be_visible()
    show_filters(console)
    expect(console.locator("#filters").get_by_label("Words")).to_have_value(f"{word.upper()} Alpha")

    words = console.locator("#filters").get_by_label("Words")
    words.fill("! ?")
    words.press("Enter")
    expect(console.locator("#filter-q-error")).to_contain_text("no word to look for")
    expect(console.locator("#filters").get_by_label("Words")).to_have_attribute("aria-invalid", "true")
    check_page(console, "a search with no word")


def test_search_works_without_javascript(make_context, signed_in_state, pages, live_stack):
    word = f"nojs{uuid.uuid4().hex[:8]}"
    task_id = create_through_api(live_stack, "TASK2", {"text": word})
    indexed(live_stack, word, 1)
    page = at(
        make_context, pages, "desktop", storage_state=signed_in_state, java_script_enabled=False
    ).new_page()
    page.goto("/dashboard")
    page.locator("#filters").get_by_label("Words").fill(word)
    page.locator("#filters").get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(rf"[?&]q={word}"))
    expect(row(page, task_id)).to_be_visible()
    expect(page.locator("#task-rows tr.task-row")).to_have_count(1)
