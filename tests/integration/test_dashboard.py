"""The dashboard's pages and partials, through HTTP, against the store on the emulator.

The many small cases live here; tests/e2e/test_dashboard.py drives the user
journeys in Chromium.
"""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
from html import unescape

import pytest
from fastapi.testclient import TestClient

from app import task_registry
from app.adapters.aggregates import TaskAggregates
from app.adapters.task_store import TaskStore
from app.domain.task import TaskStatus
from app.domain.timeline import Hop, event_of
from app.main import create_app
from app.services import tasks
from app.settings import Settings
from tests.factories import a_task

HTMX = {"HX-Request": "true"}


@pytest.fixture(scope="module")
def settings(provisioned) -> Settings:
    return Settings(table_name=provisioned.resources.table_name, api_keys="test-key")


def make_client(settings: Settings, provisioned, **app_options) -> TestClient:
    store = app_options.pop("store", provisioned.store)
    counter = app_options.pop("counter", TaskAggregates(store.table_name, provisioned.clients["dynamodb"]))
    app = create_app(settings, store=store, counter=counter)
    return TestClient(app, follow_redirects=False, **app_options)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client: TestClient, prefix: str = "") -> str:
    """Sign in as the local default user; returns the session's CSRF token."""
    token = csrf_of(client.get(f"{prefix}/dashboard/login").text)
    response = client.post(
        f"{prefix}/dashboard/login", data={"username": "admin", "password": "admin", "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get(f"{prefix}/dashboard").text)


@pytest.fixture(scope="module")
def client(settings, provisioned) -> TestClient:
    return make_client(settings, provisioned)


@pytest.fixture(scope="module")
def csrf(client) -> str:
    return sign_in(client)


def stored(provisioned, status: TaskStatus = TaskStatus.CREATED, **changes):
    """A task put straight into the store, in ``status`` (through the state machine's moves)."""
    task = a_task(**changes)
    provisioned.store.add(task)
    path = {
        TaskStatus.CREATED: [],
        TaskStatus.IN_PROGRESS: [TaskStatus.IN_PROGRESS],
        TaskStatus.COMPLETED: [TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED],
        TaskStatus.FAILED: [TaskStatus.IN_PROGRESS, TaskStatus.FAILED],
    }[status]
    for step in path:
        message = "it broke" if step is TaskStatus.FAILED else ""
        task = tasks.change_status(provisioned.store, task.id, step, message)
    return task


def row_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="task-([0-9a-f-]{36})"', html)


# --- the list ------------------------------------------------------------------------


def test_list_shows_tasks_newest_first_with_counts(client, csrf, provisioned):
    older = stored(provisioned, TaskStatus.COMPLETED)
    newer = stored(provisioned, TaskStatus.FAILED)
    page = client.get("/dashboard")
    assert page.status_code == 200
    ids = row_ids(page.text)
    assert ids.index(newer.id) < ids.index(older.id)
    assert f">{newer.id[:8]}</button>" in page.text and f'data-copy="{newer.id}"' in page.text
    assert 'data-status="FAILED"' in page.text and ">FAILED</span>" in page.text
    counts = re.search(r'<nav id="counts".*?</nav>', page.text, re.S).group(0)
    assert re.search(r'data-status="FAILED".*?class="number">\d+<', counts, re.S)
    # Exact time on hover, human time in the cell.
    assert re.search(r'<time datetime="[0-9T:-]+Z" title="[0-9 :-]+ UTC" data-epoch="\d+">', page.text)


def test_filters_by_status_and_type_alone_or_together(client, csrf, provisioned):
    failed_1 = stored(provisioned, TaskStatus.FAILED, task_type="TASK1")
    done_2 = stored(provisioned, TaskStatus.COMPLETED, task_type="TASK2")
    failed_2 = stored(provisioned, TaskStatus.FAILED, task_type="TASK2")

    by_status = row_ids(client.get("/dashboard?status=FAILED&limit=100").text)
    assert failed_1.id in by_status and failed_2.id in by_status and done_2.id not in by_status
    by_type = row_ids(client.get("/dashboard?task_type=TASK2&limit=100").text)
    assert done_2.id in by_type and failed_2.id in by_type and failed_1.id not in by_type
    both = client.get("/dashboard?status=FAILED&task_type=TASK2&limit=100")
    assert failed_2.id in row_ids(both.text)
    assert not {failed_1.id, done_2.id} & set(row_ids(both.text))
    # The form shows the filters it applied.
    assert '<option value="FAILED" selected>' in both.text and '<option value="TASK2" selected>' in both.text


def test_a_filter_change_from_htmx_gets_the_results_and_a_canonical_url(client, csrf):
    response = client.get(
        "/dashboard?status=FAILED&task_type=&created_from=&limit=20", headers={**HTMX, "HX-Target": "results"}
    )
    assert response.text.lstrip().startswith('<div id="results"')
    assert response.headers["HX-Push-Url"] == "/dashboard?status=FAILED"
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]


def test_bad_filter_values_are_explained_not_a_500(client, csrf):
    page = client.get("/dashboard?status=DONE&task_type=NOPE&created_from=yesterday&limit=0")
    assert page.status_code == 200
    for message in (
        "Unknown status &#39;DONE&#39;",
        "Unknown task type",
        "expected a date and time",
        "1 to 100",
    ):
        assert message in page.text


def test_created_time_range(client, csrf, provisioned):
    now = time.time()
    old = stored(provisioned, now=now - 3600)
    recent = stored(provisioned, now=now - 60)
    start = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now - 120))
    end = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
    ids = row_ids(client.get(f"/dashboard?created_from={start}&created_to={end}&limit=100").text)
    assert recent.id in ids and old.id not in ids
    reversed_range = client.get(f"/dashboard?created_from={end}&created_to={start}")
    assert "before its start" in reversed_range.text


def test_pages_through_the_listing_with_next_token(client, csrf, provisioned):
    start = int(time.time()) - 1
    mine = [stored(provisioned, task_type="TASK2").id for _ in range(5)]
    query = f"task_type=TASK2&created_from={start}&limit=2"
    first = client.get(f"/dashboard?{query}").text
    seen = row_ids(first)
    next_url = unescape(re.search(r'hx-get="(/dashboard/rows\?[^"]+)"', first).group(1))
    while next_url:
        more = client.get(next_url, headers={**HTMX, "HX-Target": "load-more"})
        assert more.status_code == 200 and "<html" not in more.text
        seen += row_ids(more.text)
        found = re.search(r'hx-get="(/dashboard/rows\?[^"]+)"', more.text)
        next_url = unescape(found.group(1)) if found else None
    assert sorted(seen) == sorted(set(seen)), "no task twice"
    assert set(mine) <= set(seen)
    assert "End of the list." in more.text
    # Without JavaScript, the same link is a page of its own.
    no_js = unescape(re.search(r'<a class="button" href="(/dashboard\?[^"]+)"', first).group(1))
    assert "next_token=" in no_js and client.get(no_js).status_code == 200


def test_a_tampered_page_token_is_a_message(client, csrf):
    page = client.get("/dashboard?next_token=bm9wZQ")
    assert page.status_code == 400 and "no longer valid" in page.text


def test_empty_state(settings, emulator_endpoint):
    from tests.integration.conftest import provision_stage

    empty = provision_stage(emulator_endpoint)
    fresh = make_client(dataclasses.replace(settings, table_name=empty.resources.table_name), empty)
    sign_in(fresh)
    page = fresh.get("/dashboard")
    assert "No tasks yet" in page.text and row_ids(page.text) == []
    assert 'data-state="quiet"' in page.text
    assert "No tasks match these filters" in fresh.get("/dashboard?status=FAILED").text


# --- counts -----------------------------------------------------------------------------


def test_counts_are_the_exact_aggregates_the_changes_function_keeps(settings, emulator_endpoint):
    from tests.integration.conftest import provision_stage
    from workers.changes import apply_changes

    stage = provision_stage(emulator_endpoint)
    for _ in range(1204):
        stage.store.add(a_task(task_type="TASK2"))
    stage.store.add(a_task(task_type="TASK1"))
    counter = TaskAggregates(stage.resources.table_name, stage.clients["dynamodb"])
    apply_changes(stage.stream_records(), counter, time.time())
    created = {c.status: c for c in counter.by_status()}[TaskStatus.CREATED]
    assert (created.count, created.capped) == (1205, False)
    of_type_1 = {c.status: c for c in counter.by_status("TASK1")}[TaskStatus.CREATED]
    assert (of_type_1.count, of_type_1.capped) == (1, False)

    page = make_client(settings, stage, store=stage.store, counter=counter)
    sign_in(page)
    assert re.search(r'class="number">1,205<', page.get("/dashboard").text)


# --- live rows ---------------------------------------------------------------------------


def test_in_flight_rows_poll_and_finished_rows_do_not(client, csrf, provisioned):
    running = stored(provisioned, TaskStatus.IN_PROGRESS)
    done = stored(provisioned, TaskStatus.COMPLETED)
    page = client.get("/dashboard?limit=100").text
    assert f'name="live" value="{running.id}|IN_PROGRESS:' in page
    assert f'value="{done.id}|' not in page
    assert 'hx-trigger="every 1s" data-state="polling"' in page


def test_live_returns_only_changed_rows_and_goes_idle(client, csrf, provisioned):
    task = stored(provisioned, TaskStatus.IN_PROGRESS)
    key = f"{task.id}|IN_PROGRESS::{task.updated_time}"
    unchanged = client.get("/dashboard/live", params={"live": key}, headers=HTMX)
    assert row_ids(unchanged.text) == [] and 'data-state="polling"' in unchanged.text

    tasks.change_status(provisioned.store, task.id, TaskStatus.COMPLETED, "all good")
    changed = client.get("/dashboard/live", params={"live": key}, headers=HTMX)
    assert row_ids(changed.text) == [task.id]
    assert 'hx-swap-oob="morph"' in changed.text and "all good" in changed.text
    assert 'data-state="quiet"' in changed.text and 'name="live"' not in changed.text
    assert '<nav id="counts"' in changed.text  # a status moved: counts are refreshed


def test_live_reports_a_task_that_expired(client, csrf):
    gone = str(uuid.uuid4())
    response = client.get("/dashboard/live", params={"live": f"{gone}|CREATED::"}, headers=HTMX)
    assert "no longer exists" in response.text and 'data-state="quiet"' in response.text


# --- find, detail ------------------------------------------------------------------------------


def test_find_by_pasted_id_or_the_short_id_the_list_shows(client, csrf, provisioned):
    task = stored(provisioned)
    found = client.get("/dashboard/find", params={"id": f"  {task.id}\n"})
    assert found.status_code == 303 and found.headers["location"] == f"/dashboard/tasks/{task.id}"
    by_short_id = client.get("/dashboard/find", params={"id": f" {task.id[:8].upper()} "})
    assert by_short_id.status_code == 303 and by_short_id.headers["location"] == f"/dashboard/tasks/{task.id}"


def test_find_lists_the_tasks_a_prefix_may_be(client, csrf, provisioned):
    shared = "c0ffee"
    tasks_ = []
    for n in range(3):
        task = dataclasses.replace(a_task(), id=f"{shared}{n:02x}-0000-4000-8000-{uuid.uuid4().hex[:12]}")
        provisioned.store.add(task)
        tasks_.append(task)
    page = client.get("/dashboard/find", params={"id": shared})
    assert page.status_code == 200
    listed = re.search(r'<section class="card find-matches".*?</section>', page.text, re.S).group(0)
    assert "3 tasks have an id starting with" in listed
    for task in tasks_:
        assert f'href="/dashboard/tasks/{task.id}"' in listed


def test_find_explains_what_it_cannot_find(client, csrf):
    missing = client.get("/dashboard/find", params={"id": "fffffffe-ffff"})
    assert missing.status_code == 404 and "No task has an id starting with" in missing.text
    assert 'value="fffffffe-ffff"' in missing.text and 'role="alert"' in missing.text
    for bad, message in (("not an id", "hex digits"), ("a", "at least 2"), ("", "Paste a task id")):
        refused = client.get("/dashboard/find", params={"id": bad})
        assert refused.status_code == 400 and message in unescape(refused.text), bad


def test_detail_shows_every_field_and_pretty_json(client, csrf, provisioned):
    task = stored(provisioned, TaskStatus.FAILED, data={"nested": {"list": [1, 2]}, "text": "é"})
    page = client.get(f"/dashboard/tasks/{task.id}")
    assert page.status_code == 200
    text = unescape(page.text)
    assert '{\n  "nested": {\n    "list": [\n      1,\n      2\n    ]\n  },\n  "text": "é"\n}' in text
    for shown in (task.id, "TASK1", "FAILED", "it broke", "Created", "Updated", "Expires", "Attempt"):
        assert shown in text
    assert 'hx-trigger="every 1s"' not in page.text  # finished: no polling

    running = stored(provisioned, TaskStatus.IN_PROGRESS)
    live = client.get(f"/dashboard/tasks/{running.id}")
    assert 'hx-trigger="every 1s"' in live.text
    partial = client.get(f"/dashboard/tasks/{running.id}", headers={**HTMX, "HX-Target": "task-detail"})
    assert partial.text.lstrip().startswith('<section id="task-detail"')


def section(html: str, element_id: str) -> str:
    found = re.search(rf'<section id="{element_id}".*?</section>', html, re.S)
    assert found, f"no #{element_id}"
    return found.group(0)


def test_detail_shows_the_timeline_in_order_with_gaps_and_the_progress_bar(client, csrf, provisioned):
    start = time.time() - 60
    task = a_task(now=start)
    provisioned.store.add(task)
    running = task.moved_to(TaskStatus.IN_PROGRESS, "attempt 1 started", start + 0.6, attempt=1, progress=40)
    provisioned.store.replace_if(running, expected=task)
    worker = {"source": "worker TASK1", "attempt": 1, "status": "IN_PROGRESS"}
    provisioned.store.add_events(
        [  # written out of order: the page orders them by time
            event_of(task, Hop.PROGRESS, start + 2.1, progress=40, message="2 of 5 s", **worker),
            event_of(task, Hop.DELIVERED, start + 0.5, message="delivery 1", **worker),
            event_of(task, Hop.PUBLISHED, start + 0.12, "publisher", status="CREATED"),
            event_of(task, Hop.STARTED, start + 0.6, message="attempt 1 started", **worker),
        ]
    )
    page = client.get(f"/dashboard/tasks/{task.id}").text
    timeline = section(page, "timeline")
    assert re.findall(r'<tr class="event hop-\w+" data-hop="(\w+)">', timeline) == [
        "created", "published", "delivered", "started", "progress"
    ]  # fmt: skip
    gaps = re.findall(r'<span class="gap-text">([^<]+)</span>', timeline)
    assert gaps == ["first event", "120 ms", "380 ms", "100 ms", "1.5 s"]
    assert ">+2.1 s</time>" in timeline and "5 events over 2.1 s" in timeline
    exact = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(start + 2.1))
    assert re.search(rf'title="{exact}\.\d{{3}} UTC" data-title-ms="\d+">\+2\.1 s</time>', timeline)
    for shown in ("worker TASK1", "publisher", "delivery 1", "2 of 5 s", "40%"):
        assert shown in timeline
    # The bars share one scale: the last one spans 0.6 s to 2.1 s of 2.1 s.
    assert 'x="286" y="0" width="714" height="10" data-gap-ms="1500"' in timeline
    assert '<progress id="task-progress" max="100" value="40"' in page
    assert '<span class="progress-text">40%</span>' in page
    assert 'hx-trigger="every 1s"' in page

    # The poll gets the same timeline with the rest of the detail.
    partial = client.get(f"/dashboard/tasks/{task.id}", headers={**HTMX, "HX-Target": "task-detail"})
    assert section(partial.text, "timeline") == timeline


def test_a_running_task_without_progress_has_a_bar_that_says_so(client, csrf, provisioned):
    running = stored(provisioned, TaskStatus.IN_PROGRESS)
    page = client.get(f"/dashboard/tasks/{running.id}").text
    assert '<progress id="task-progress" max="100" aria-labelledby="progress-label">' in page
    assert "no progress reported yet" in page


def test_a_finished_task_shows_its_whole_timeline_and_is_not_fetched_again(client, csrf, provisioned):
    done = stored(provisioned, TaskStatus.COMPLETED)
    page = client.get(f"/dashboard/tasks/{done.id}").text
    hops = re.findall(r'data-hop="(\w+)"', section(page, "timeline"))
    assert hops == ["created", "status_changed", "status_changed"]  # stored directly, moved by the API
    assert 'hx-trigger="every 1s"' not in page and 'id="task-progress"' not in page


def test_a_finished_task_whose_last_event_is_not_written_yet_is_followed_a_little_longer(
    client, csrf, provisioned
):
    task = stored(provisioned, TaskStatus.IN_PROGRESS)
    # The worker's write of the task lands; its "completed" event has not yet.
    provisioned.store.replace_if(task.moved_to(TaskStatus.COMPLETED, "done", time.time()), expected=task)
    page = client.get(f"/dashboard/tasks/{task.id}").text
    assert 'data-status="COMPLETED"' in page and 'hx-trigger="every 1s"' in page
    provisioned.store.add_events([event_of(task, Hop.COMPLETED, time.time(), "worker", status="COMPLETED")])
    page = client.get(f"/dashboard/tasks/{task.id}").text
    assert 'data-hop="completed"' in page and 'hx-trigger="every 1s"' not in page


def test_event_messages_are_escaped_in_the_timeline(client, csrf, provisioned):
    payload = '<script>alert(1)</script><img src=x onerror=alert(2)>" onmouseover="alert(3)'
    task = stored(provisioned, TaskStatus.IN_PROGRESS)
    tasks.change_status(provisioned.store, task.id, TaskStatus.FAILED, payload)
    timeline = section(client.get(f"/dashboard/tasks/{task.id}").text, "timeline")
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&#34; onmouseover="
        in timeline
    )
    assert "<script" not in timeline and "<img" not in timeline and '" onmouseover' not in timeline
    assert unescape(timeline).count(payload) == 1


def test_a_task_nothing_has_happened_to_yet_shows_its_created_hop(client, csrf, provisioned):
    task = a_task()
    provisioned.store.add(task)  # the task item is its own "created" event
    page = client.get(f"/dashboard/tasks/{task.id}")
    assert page.status_code == 200
    assert re.findall(r'data-hop="(\w+)"', section(page.text, "timeline")) == ["created"]


def test_the_list_shows_a_small_progress_bar_for_a_running_task(client, csrf, provisioned):
    task = stored(provisioned, TaskStatus.IN_PROGRESS)
    provisioned.store.replace_if(running := dataclasses.replace(task, progress=70), expected=task)
    row = re.search(rf'<tr id="task-{task.id}".*?</tr>', client.get("/dashboard?limit=100").text, re.S)
    assert "IN_PROGRESS 70%</span>" in row.group(0)
    assert '<progress class="mini" max="100" value="70" aria-hidden="true">' in row.group(0)
    assert f'value="{task.id}|IN_PROGRESS:70:{running.updated_time}"' in row.group(0)


def test_unknown_task_is_a_404_page(client, csrf):
    page = client.get("/dashboard/tasks/no-such-task")
    assert page.status_code == 404 and "Task not found" in page.text and "<html" in page.text


# --- creating ------------------------------------------------------------------------------------


def test_create_through_the_form_with_htmx(client, csrf, provisioned):
    marker = uuid.uuid4().hex
    response = client.post(
        "/dashboard/tasks",
        data={"task_type": "TASK2", "data": f'{{"text": "{marker}"}}', "ttl": "", "csrf_token": csrf},
        headers={**HTMX, "HX-Target": "create-form"},
    )
    assert response.status_code == 200
    (task_id,) = row_ids(response.text)
    assert provisioned.store.get(task_id).data == {"text": marker}
    assert 'hx-swap-oob="afterbegin:#task-rows"' in response.text
    assert response.text.lstrip().startswith('<form id="create-form"')
    assert "Created" in response.text


def test_create_without_javascript_redirects_to_the_list(client, csrf):
    response = client.post(
        "/dashboard/tasks", data={"task_type": "TASK1", "data": "{}", "ttl": "", "csrf_token": csrf}
    )
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"data": '{"a": '}, "data", "Not valid JSON: Expecting value (line 1, column 7)"),
        ({"data": "[1, 2]"}, "data", "Data must be a JSON object"),
        ({"data": '{"x": NaN}'}, "data", "NaN is not a JSON number"),
        ({"data": '{"blob": "' + "x" * 70_000 + '"}'}, "data", "limit is 65536 bytes"),
        ({"ttl": "tomorrow"}, "ttl", "ttl must be epoch seconds"),
        ({"ttl": "1000"}, "ttl", "is in the past"),
        ({"task_type": "TASK9"}, "type", f"Choose one of {', '.join(task_registry.names())}"),
    ],
)
def test_bad_create_input_is_shown_next_to_its_field(client, csrf, fields, field, message):
    typed = {"task_type": "TASK1", "data": '{"keep": "me"}', "ttl": "", **fields}
    response = client.post(
        "/dashboard/tasks", data={**typed, "csrf_token": csrf}, headers={**HTMX, "HX-Target": "create-form"}
    )
    assert response.status_code == 422
    error = re.search(
        rf'<p class="field-error" id="create-{field}-error" role="alert">(.*?)</p>', response.text, re.S
    )
    assert error and message in unescape(error.group(1))
    assert f'aria-describedby="create-{field}-error"' in response.text
    # What the user typed is kept.
    if field != "type":
        assert unescape(typed[field])[:50] in unescape(response.text)

    without_js = client.post("/dashboard/tasks", data={**typed, "csrf_token": csrf})
    assert without_js.status_code == 422 and "<html" in without_js.text
    assert message in unescape(without_js.text)


# --- retrying ---------------------------------------------------------------------------------------


def test_retry_from_its_row(client, csrf, provisioned):
    failed = stored(provisioned, TaskStatus.FAILED)
    response = client.post(
        f"/dashboard/tasks/{failed.id}/retry",
        headers={**HTMX, "HX-Target": f"task-{failed.id}", "X-CSRF-Token": csrf},
    )
    assert response.status_code == 200
    original, retry_id = row_ids(response.text)
    assert original == failed.id
    assert provisioned.store.get(retry_id).retry_of == failed.id
    assert "retried as" in response.text and "retry of" in response.text


def test_retry_from_the_detail_page_and_without_javascript(client, csrf, provisioned):
    failed = stored(provisioned, TaskStatus.FAILED)
    from_detail = client.post(
        f"/dashboard/tasks/{failed.id}/retry",
        headers={**HTMX, "HX-Target": "task-detail", "X-CSRF-Token": csrf},
    )
    retry_id = from_detail.headers["HX-Redirect"].rsplit("/", 1)[1]
    assert provisioned.store.get(retry_id).retry_of == failed.id
    detail = client.get(f"/dashboard/tasks/{retry_id}").text
    assert f'href="/dashboard/tasks/{failed.id}"' in detail and "Retry of" in detail

    confirm = client.get(f"/dashboard/tasks/{failed.id}/retry")
    assert confirm.status_code == 200 and "Retry task" in confirm.text
    plain = client.post(f"/dashboard/tasks/{failed.id}/retry", data={"csrf_token": csrf})
    assert plain.status_code == 303 and plain.headers["location"].startswith("/dashboard/tasks/")


def test_only_a_failed_task_can_be_retried(client, csrf, provisioned):
    done = stored(provisioned, TaskStatus.COMPLETED)
    response = client.post(
        f"/dashboard/tasks/{done.id}/retry",
        headers={**HTMX, "HX-Target": f"task-{done.id}", "X-CSRF-Token": csrf},
    )
    assert response.status_code == 409
    assert response.headers["HX-Retarget"] == "#alerts" and "cannot move to a retry" in response.text


def test_bulk_retry_of_selected_failed_tasks(client, csrf, provisioned):
    failed = [stored(provisioned, TaskStatus.FAILED) for _ in range(2)]
    done = stored(provisioned, TaskStatus.COMPLETED)
    response = client.post(
        "/dashboard/retry",
        data={"ids": [t.id for t in failed] + [done.id], "csrf_token": csrf},
        headers={**HTMX, "HX-Target": "bulk-retry"},
    )
    assert response.status_code == 200
    assert "Retried 2 of 3 selected tasks." in response.text
    assert f"{done.id[:8]}: Task {done.id} is COMPLETED" in response.text
    new_ids = set(row_ids(response.text)) - {t.id for t in failed}
    assert {provisioned.store.get(i).retry_of for i in new_ids} == {t.id for t in failed}


# --- the store unreachable ------------------------------------------------------------------------------


def test_store_unreachable_shows_a_message_not_a_trace(settings, provisioned):
    missing = TaskStore("no-such-table", provisioned.clients["dynamodb"])
    broken = make_client(settings, provisioned, store=missing, counter=TaskAggregates("no-such-table"))
    sign_in(broken)
    page = broken.get("/dashboard")
    assert page.status_code == 503
    assert "can't be reached right now" in unescape(page.text) and "Traceback" not in page.text
    partial = broken.get("/dashboard/live", params={"live": f"{uuid.uuid4()}|CREATED::"}, headers={
        **HTMX, "HX-Trigger": "live-poller"})  # fmt: skip
    assert partial.status_code == 503 and partial.headers["HX-Retarget"] == "#live-status"
    assert partial.text.strip().startswith('<p class="alert">')
