"""axe-core in the browser tests: every page state they check has no violation.

axe-core comes vendored in the PyPI package axe-playwright-python (no CDN):
Playwright injects it through the DevTools protocol, which the page's
Content-Security-Policy does not govern.
"""

from __future__ import annotations

from playwright.sync_api import Page


def no_axe_violations(page: Page, state: str) -> None:
    """Fail with every violation axe finds on the page as it is now, named by ``state``."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response["violations"]
    assert not violations, f"axe on {state} ({page.url}):\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}; "
        + "; ".join(node["target"][0] if node["target"] else "?" for node in v["nodes"][:5])
        for v in violations
    )
