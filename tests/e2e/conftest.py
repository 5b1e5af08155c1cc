"""Chromium for the dashboard's browser tests, signed in, with artifacts of a failing test.

Debian's Chromium (/usr/bin/chromium) where it exists, Playwright's own browser
elsewhere. A failing test leaves a screenshot and the HTML of each of its pages
under test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.chromium import CHROMIUM_FLAGS, DEBIAN_CHROMIUM

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

# Workers and polling take seconds; a loaded CI machine can take several.
expect.set_options(timeout=15_000)


def dashboard_account() -> tuple[str, str]:
    """The account the local stack accepts: DASHBOARD_USERS if set, else the documented default."""
    first = os.environ.get("DASHBOARD_USERS", "admin:admin").split(",")[0]
    user, _, password = first.strip().partition(":")
    return user, password


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not DEBIAN_CHROMIUM.exists():
        return browser_type_launch_args
    return {
        **browser_type_launch_args,
        "executable_path": str(DEBIAN_CHROMIUM),
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_FLAGS],
        "headless": browser_type_launch_args.get("headless", True),
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any], live_stack) -> dict[str, Any]:
    return {
        **browser_context_args,
        "base_url": live_stack.base_url,
        "viewport": {"width": 1280, "height": 900},
    }


def sign_in(page: Page) -> None:
    user, password = dashboard_account()
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture(scope="session")
def signed_in_state(browser: Browser, browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """Cookies of one sign-in, reused by every test that does not test signing in."""
    context = browser.new_context(**browser_context_args)
    page = context.new_page()
    page.goto("/dashboard/login")
    sign_in(page)
    expect(page.get_by_text("Signed in as")).to_be_visible()
    state = context.storage_state()
    context.close()
    return state


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def pages(request: pytest.FixtureRequest) -> Iterator[list[Page]]:
    """Pages of the test; if it fails, each one's screenshot and HTML go to test-artifacts/."""
    opened: list[Page] = []
    yield opened
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.nodeid).strip("-")
    folder.mkdir(parents=True, exist_ok=True)
    for number, page in enumerate(opened):
        if page.is_closed():
            continue
        try:
            page.screenshot(path=str(folder / f"page-{number}.png"), full_page=True)
            (folder / f"page-{number}.html").write_text(page.content())
        except Exception as exc:  # the browser may be gone; the report matters more
            (folder / f"page-{number}.error.txt").write_text(repr(exc))


@pytest.fixture
def fresh_context(new_context, pages: list[Page]) -> BrowserContext:
    """A browser context with no session at all."""
    context = new_context()
    context.on("page", lambda page: pages.append(page))
    return context


@pytest.fixture
def dashboard(new_context, signed_in_state: dict[str, Any], pages: list[Page]) -> Page:
    """A signed-in page on the task list."""
    context = new_context(storage_state=signed_in_state)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    context.on("page", lambda page: pages.append(page))
    page = context.new_page()
    page.goto("/dashboard")
    expect(page.get_by_text("Signed in as")).to_be_visible()
    return page


@pytest.fixture
def make_context(browser, browser_context_args: dict[str, Any]):
    """Browser contexts with any size or zone (pytest-playwright's new_context fixes the viewport).

    Closed after the ``pages`` fixture has saved what a failing test left on screen.
    """
    made = []

    def make(**overrides: Any):
        context = browser.new_context(**{**browser_context_args, **overrides})
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last in a session.

    Playwright's sync API keeps an asyncio loop running in the main thread from
    its first use to the end of the session; code that runs a loop of its own
    there afterwards (Mangum, in the handler tests) fails with "This event loop
    is already running".
    """
    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))
