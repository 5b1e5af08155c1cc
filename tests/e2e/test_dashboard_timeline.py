"""A task's page follows its progress and timeline live, in Chromium, against `python -m app.local`."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.accessibility import no_axe_violations
from tests.e2e.test_dashboard import create_through_api

pytestmark = pytest.mark.e2e

# Every change the page goes through, seen by a MutationObserver: a progress
# value shown for a second is recorded even if no assertion looks at that moment.
RECORD_CHANGES = """() => {
  window.seen = [];
  const note = () => {
    const detail = document.querySelector("#task-detail");
    if (!detail) return;
    const bar = detail.querySelector("#task-progress");
    const state = {
      status: detail.dataset.status,
      progress: bar && bar.hasAttribute("value") ? Number(bar.getAttribute("value")) : null,
      hops: Array.from(detail.querySelectorAll("#timeline-events tr")).map((row) => row.dataset.hop),
    };
    const last = window.seen[window.seen.length - 1];
    if (!last || JSON.stringify(last) !== JSON.stringify(state)) window.seen.push(state);
  };
  new MutationObserver(note).observe(document.querySelector("main"), { childList: true, subtree: true });
  note();
}"""


def test_the_task_page_shows_progress_and_the_timeline_growing_without_reloading(dashboard: Page, live_stack):
    task_id = create_through_api(live_stack, "TASK1", {"duration_seconds": 3, "marker": uuid.uuid4().hex})
    dashboard.goto(f"/dashboard/tasks/{task_id}")
    dashboard.evaluate("window.notReloaded = true")
    dashboard.evaluate(RECORD_CHANGES)
    detail = dashboard.locator("#task-detail")

    expect(detail.locator("#task-progress")).to_be_visible()
    no_axe_violations(dashboard, "a running task's page")
    expect(detail.locator("#timeline-events tr[data-hop='completed']")).to_be_visible()
    expect(detail.locator(".badge")).to_have_text("COMPLETED")
    # Finished: no bar, no more polling.
    expect(detail.locator("#task-progress")).to_have_count(0)
    expect(detail).not_to_have_attribute("hx-trigger", "every 1s")
    assert dashboard.evaluate("window.notReloaded") is True

    hops = detail.locator("#timeline-events tr").evaluate_all("rows => rows.map(r => r.dataset.hop)")
    assert hops[0] == "created" and hops[-1] == "completed"
    assert {"published", "delivered", "started"} <= set(hops) and hops.count("progress") == 3
    expect(detail.locator("#timeline-events tr[data-hop='progress'] .event-progress")).to_have_text(
        ["33%", "66%", "100%"]
    )

    seen = dashboard.evaluate("window.seen")
    running = [state["progress"] for state in seen if state["status"] == "IN_PROGRESS" and state["progress"]]
    assert running and running == sorted(running), seen
    assert any(0 < progress < 100 for progress in running), seen
    lengths = [len(state["hops"]) for state in seen]
    assert lengths == sorted(lengths) and lengths[0] < lengths[-1], seen
