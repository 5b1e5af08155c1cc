"""The dashboard as an requests_sent console: live list, paging in the URL, orders, time presets,
find by short id, bulk retry of everything a filter matches, clones, attempts, error pages, gzip.

Through HTTP against the store on the emulator; tests/e2e/test_dashboard_console.py drives
the same in Chromium.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
import time
import uuid
from html import unescape

import pytest

from app.domain.task import TaskStatus
from app.domain.timeline import Hop, event_of
from app.services import tasks
from app.services.dashboard import NEW_ROWS_PER_TICK, RowKey
from app.settings import Settings
from tests.factories import a_task
from tests.integration.conftest import provision_stage
from tests.integration.operations import operations_sent
from tests.integration.test_dashboard import HTMX, make_client, row_ids, sign_in, stored


@pytest.fixture(scope="module")
def settings(provisioned) -> Settings:
    return Settings(table_name=provisioned.resources.table_name, api_keys="test-key")


@pytest.fixture(scope="module")
def client(settings, provisioned):
    return make_client(settings, provisioned)


@pytest.fixture(scope="module")
def csrf(client) -> str:
    return sign_in(client)


@pytest.fixture
def stage(settings, emulator_endpoint):
    """An empty stage of its own and a signed-in client on it: for tests that see every task."""
    provisioned = provision_stage(emulator_endpoint)
    client = make_client(
        dataclasses.replace(settings, table_name=provisioned.resources.table_name), provisioned
    )
    return provisioned, client, sign_in(client)


@pytest.fixture
def requests_sent(provisioned):
    with operations_sent(provisioned.store.dynamodb) as sent:
        yield sent


def new_tasks(provisioned, count: int, **changes) -> list:
    made = []
    for _ in range(count):
        task = a_task(**changes)
        provisioned.store.add(task)
        made.append(task)
    return made


def load_more_url(html: str) -> str | None:
    found = re.search(r'hx-get="(/dashboard/rows\?[^"]+)"', html)
    return unescape(found.group(1)) if found else None


# --- paging in the URL ------------------------------------------------------------------


def test_load_more_puts_the_last_row_in_the_url_and_that_url_shows_every_row_again(stage):
    provisioned, client, _ = stage
    made = new_tasks(provisioned, 7, task_type="TASK2")
    newest_first = [task.id for task in reversed(made)]

    first = client.get("/dashboard?limit=3")
    assert row_ids(first.text) == newest_first[:3]
    more = client.get(load_more_url(first.text), headers={**HTMX, "HX-Target": "load-more"})
    assert row_ids(more.text) == newest_first[3:6]
    through = str(RowKey.of(made[1]))
    assert more.headers["HX-Replace-Url"] == f"/dashboard?limit=3&through={through}"

    again = client.get(more.headers["HX-Replace-Url"])
    assert row_ids(again.text) == newest_first[:6]
    rest = client.get(load_more_url(again.text), headers={**HTMX, "HX-Target": "load-more"})
    assert row_ids(rest.text) == newest_first[6:] and "End of the list." in rest.text

    # A task created since goes on top; the rows shown before are all still there, and the
    # page that holds the last of them is shown to its end (its next token goes on from there).
    (newer,) = new_tasks(provisioned, 1, task_type="TASK2")
    shifted = row_ids(client.get(more.headers["HX-Replace-Url"]).text)
    assert shifted[:7] == [newer.id, *newest_first[:6]] and len(shifted) <= 7 + 2


def test_a_mangled_through_is_a_message_and_the_first_page(client, csrf):
    page = client.get("/dashboard?through=12-not-a-row")
    assert page.status_code == 200 and "no longer valid" in page.text


# --- live ----------------------------------------------------------------------------------


def live(
    client,
    *,
    newest: str = "",
    in_flight=(),
    counted: str = "",
    created: int = -1,
    watch: bool = True,
    **filters,
):
    params = {
        "newest": newest,
        "counted": counted,
        "created": created,
        "live": [f"{task.id}|{task.status.value}::{task.updated_time or ''}" for task in in_flight],
        **filters,
    }
    if watch:
        params["watch"] = "1"
    return client.get("/dashboard/live", params=params, headers={**HTMX, "HX-Trigger": "live-poller"})


def poller_params(html: str) -> dict[str, str]:
    """What the next tick will send: the counts' fingerprint and the created total the page now knows."""
    url = unescape(re.search(r'id="live-poller"[^>]*hx-get="([^"]+)"', html, re.S).group(1))
    return {name: re.search(rf"[?&]{name}=([^&]*)", url).group(1) for name in ("counted", "created")}


def test_a_quiet_tick_is_one_read_whatever_the_table_or_its_shards(client, csrf, provisioned, requests_sent):
    (top,) = new_tasks(provisioned, 1)
    first = live(client, newest=str(RowKey.of(top)))
    known = poller_params(first.text)
    requests_sent.clear()
    quiet = live(client, newest=str(RowKey.of(top)), counted=known["counted"], created=int(known["created"]))
    assert quiet.status_code == 200 and row_ids(quiet.text) == []
    # The session's record (sign-out revokes it), then the counts: no listing, nothing moved.
    assert requests_sent == ["GetItem", "BatchGetItem"]
    assert '<nav id="counts"' not in quiet.text

    # Rows in flight are read in the same BatchGetItem as the counts.
    running = stored(provisioned, TaskStatus.IN_PROGRESS)
    requests_sent.clear()
    live(client, newest=str(RowKey.of(top)), in_flight=[running], counted=known["counted"],
         created=int(known["created"]))  # fmt: skip
    assert requests_sent == ["GetItem", "BatchGetItem"]


def test_the_listing_is_read_only_when_tasks_were_created_since(client, csrf, provisioned, requests_sent):
    from workers.changes import apply_changes

    (top,) = new_tasks(provisioned, 1)
    apply_changes(provisioned.stream_records(), client.app.state.counter, time.time())
    known = poller_params(live(client, newest=str(RowKey.of(top))).text)
    (newer,) = new_tasks(provisioned, 1)
    apply_changes(provisioned.stream_records(), client.app.state.counter, time.time())
    requests_sent.clear()
    ticked = live(client, newest=str(RowKey.of(top)), counted=known["counted"], created=int(known["created"]))
    assert newer.id in row_ids(ticked.text)
    assert "Query" in requests_sent and '<nav id="counts"' in ticked.text
    assert int(poller_params(ticked.text)["created"]) == int(known["created"]) + 1


def test_tasks_created_anywhere_are_inserted_on_top_with_the_counts(client, csrf, provisioned):
    (top,) = new_tasks(provisioned, 1)
    created_elsewhere = new_tasks(provisioned, 2)
    response = live(client, newest=str(RowKey.of(top)))
    inserted = re.search(r'<tbody hx-swap-oob="afterbegin:#held-rows">(.*?)</tbody>', response.text, re.S)
    # Held until static/app.js puts them in place; sent newest first, as the list shows them.
    newest_first = sorted(created_elsewhere, key=RowKey.of, reverse=True)
    assert row_ids(inserted.group(1)) == [task.id for task in newest_first]
    assert '<nav id="counts"' in response.text and "2 new tasks at the top" in response.text
    assert 'hx-trigger="every 1s"' in response.text  # the new rows are in flight


def test_new_tasks_follow_the_filters(client, csrf, provisioned):
    (top,) = new_tasks(provisioned, 1, task_type="TASK1")
    (other_type,) = new_tasks(provisioned, 1, task_type="TASK2")
    response = live(client, newest=str(RowKey.of(top)), task_type="TASK1")
    assert other_type.id not in response.text


def test_more_new_tasks_than_a_tick_inserts_offers_the_newest_instead(client, csrf, provisioned):
    (top,) = new_tasks(provisioned, 1)
    new_tasks(provisioned, NEW_ROWS_PER_TICK + 1)
    response = live(client, newest=str(RowKey.of(top)))
    assert "afterbegin:#held-rows" not in response.text
    assert (
        f"More than {NEW_ROWS_PER_TICK} tasks were created" in response.text
        and "Show the newest" in response.text
    )


def test_counts_are_sent_whenever_they_differ_from_what_the_page_shows(client, csrf, provisioned):
    (top,) = new_tasks(provisioned, 1)
    stale = live(client, newest=str(RowKey.of(top)), counted="00000000")
    assert '<nav id="counts"' in stale.text
    shown = poller_params(stale.text)["counted"]
    assert shown != "00000000"
    same = live(client, newest=str(RowKey.of(top)), counted=shown)
    assert '<nav id="counts"' not in same.text


def test_a_bad_newest_key_is_a_400_not_a_500(client, csrf):
    response = live(client, newest="yesterday")
    assert response.status_code == 400 and response.headers["HX-Retarget"] == "#live-status"


# --- the list: orders, presets, durations --------------------------------------------------------


def test_the_list_orders_its_rows_by_duration_or_status_and_says_within_what(stage):
    provisioned, client, _ = stage
    now = time.time()
    quick = a_task(now=now - 100)
    provisioned.store.add(quick)
    slow = a_task(now=now - 50)
    provisioned.store.add(slow)
    provisioned.store.replace_if(slow.moved_to(TaskStatus.IN_PROGRESS, "", now - 40), expected=slow)
    created = a_task(now=now - 10)
    provisioned.store.add(created)
    started = quick.moved_to(TaskStatus.IN_PROGRESS, "", now - 100)
    provisioned.store.replace_if(started, expected=quick)
    provisioned.store.replace_if(started.moved_to(TaskStatus.COMPLETED, "ok", now - 99), expected=started)

    by_duration = client.get("/dashboard?sort=duration")
    # By run time, queue wait aside: running for 40 s, ran 1 s, not started (waiting 10 s).
    assert row_ids(by_duration.text) == [slow.id, quick.id, created.id]
    assert "Ordered within the 3 tasks loaded" in by_duration.text
    assert 'data-sort="duration"' in by_duration.text
    by_status = client.get("/dashboard?sort=status")
    assert row_ids(by_status.text) == [created.id, slow.id, quick.id]  # CREATED, IN_PROGRESS ... COMPLETED
    assert row_ids(client.get("/dashboard?sort=oldest").text) == [quick.id, slow.id, created.id]
    assert "Ordered within" not in client.get("/dashboard").text
    assert "Unknown order" in client.get("/dashboard?sort=fastest").text


def test_rows_show_queue_wait_and_duration_from_the_task_item(client, csrf, provisioned):
    waiting = a_task(now=time.time() - 75)
    provisioned.store.add(waiting)
    row = re.search(rf'<tr id="task-{waiting.id}".*?</tr>', client.get("/dashboard?limit=100").text, re.S)
    wait = re.search(r'data-label="Queue wait">(.*?)</td>', row.group(0), re.S).group(1)
    assert re.search(
        rf'class="ticking" data-since="{waiting.created_time}" title="so far">1 min 1\d s<', wait
    )
    finished = stored(provisioned, TaskStatus.COMPLETED)
    row = re.search(rf'<tr id="task-{finished.id}".*?</tr>', client.get("/dashboard?limit=100").text, re.S)
    # Its run time, first started to finished: its queue wait aside.
    assert 'data-label="Run time"><1 s</td>' in unescape(row.group(0)).replace("&lt;", "<")
    running = re.search(rf'<tr id="task-{waiting.id}".*?</tr>', client.get("/dashboard?limit=100").text, re.S)
    assert re.search(
        r'data-label="Run time"><span class="muted" title="No worker started it">', running.group(0)
    )
    # Started and finished: its wait is fixed, from when it started (started_ms on the task item).
    assert 'data-label="Queue wait"><1 s</td>' in unescape(row.group(0)).replace("&lt;", "<")


def test_time_presets_filter_the_last_span_and_stay_relative(stage):
    provisioned, client, _ = stage
    old = a_task(now=time.time() - 2 * 3600)
    recent = a_task(now=time.time() - 60)
    for task in (old, recent):
        provisioned.store.add(task)
    page = client.get("/dashboard?range=1h")
    assert row_ids(page.text) == [recent.id]
    assert 'aria-current="true">1 h</a>' in page.text
    assert (
        'name="created_from" type="datetime-local" step="1" value=""' in page.text
    )  # the preset, not a time
    assert "Counts are of every type at any time: they ignore the time range." in page.text
    assert row_ids(client.get("/dashboard?range=24h").text) == [recent.id, old.id]
    # Times typed into the pickers win over a preset.
    typed = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 3 * 3600))
    assert row_ids(client.get(f"/dashboard?range=15m&created_from={typed}").text) == [recent.id, old.id]
    assert "Unknown time range" in client.get("/dashboard?range=1y").text
    pushed = client.get("/dashboard?range=7d&task_type=", headers={**HTMX, "HX-Target": "results"})
    assert pushed.headers["HX-Push-Url"] == "/dashboard?range=7d"


# --- errors are pages, never a 500 ----------------------------------------------------------------------


def test_unknown_dashboard_paths_get_an_html_404_page(client, csrf):
    for path in ("/dashboard/nope", "/dashboard/tasks/x/y/z", "/dashboard/static/nope.css"):
        page = client.get(path)
        assert page.status_code == 404, path
        assert page.headers["content-type"].startswith("text/html") and "Page not found" in page.text, path
    refused = client.get("/dashboard/logout")
    assert refused.status_code == 405 and refused.headers["allow"] == "POST" and "<html" in refused.text


def test_missing_or_bad_parameters_get_a_4xx_page(client, csrf):
    missing = client.get("/dashboard/rows")
    assert missing.status_code == 400 and "next_token is missing" in missing.text and "<html" in missing.text
    bad = client.get("/dashboard/live", params={"counted": "soon"})
    assert bad.status_code == 400 and "bad counted" in unescape(bad.text)


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard?status=%00&limit=-1&through=%ff&range=&sort=%22",
        "/dashboard/rows?next_token=&status=NOPE",
        "/dashboard/rows?next_token=%%%",
        "/dashboard/live?watch=maybe&newest=1-2",
        "/dashboard/live?live=%7C%7C%7C&live=x",
        "/dashboard/find?id=%00%00",
        "/dashboard/tasks/..%2F..%2Fetc",
        "/dashboard/tasks/x/clone",
        "/dashboard/retry-matching?created_from=tomorrow&range=7d",
    ],
)
def test_hostile_addresses_are_never_a_500(client, csrf, path):
    response = client.get(path, follow_redirects=True)
    assert 400 <= response.status_code < 500 or response.status_code == 200, response.status_code
    assert response.headers["content-type"].startswith("text/html")


# --- bulk retry -----------------------------------------------------------------------------------------


def test_bulk_retry_is_safe_to_repeat(client, csrf, provisioned):
    failed = [stored(provisioned, TaskStatus.FAILED) for _ in range(2)]
    form = {"ids": [task.id for task in failed], "csrf_token": csrf}
    first = client.post("/dashboard/retry", data=form, headers={**HTMX, "HX-Target": "bulk-retry"})
    assert "Retried 2 of 2 selected tasks." in first.text
    retries = {provisioned.store.get(task.id).retried_as for task in failed}
    again = client.post("/dashboard/retry", data=form, headers={**HTMX, "HX-Target": "bulk-retry"})
    assert "Retried 0 of 2 selected tasks. 2 had been retried before" in again.text
    assert "afterbegin:#task-rows" not in again.text  # no row for a retry that already exists
    assert {provisioned.store.get(task.id).retried_as for task in failed} == retries


def test_bulk_retry_without_javascript_shows_what_it_did(client, csrf, provisioned):
    failed = stored(provisioned, TaskStatus.FAILED)
    page = client.post(
        "/dashboard/retry", data={"ids": [failed.id], "csrf_token": csrf, "back": "/dashboard"}
    )
    assert page.status_code == 200 and "Retried 1 of 1 selected task." in page.text
    retry_id = provisioned.store.get(failed.id).retried_as
    assert f'href="/dashboard/tasks/{retry_id}"' in page.text
    nothing = client.post("/dashboard/retry", data={"csrf_token": csrf, "back": "https://evil.example/"})
    assert nothing.status_code == 400 and "Select at least one" in nothing.text
    assert "evil.example" not in nothing.text


def test_retry_all_matching_names_the_count_then_retries_exactly_those(stage):
    provisioned, client, csrf = stage
    failed = [stored(provisioned, TaskStatus.FAILED, task_type="TASK2") for _ in range(3)]
    stored(provisioned, TaskStatus.FAILED, task_type="TASK1")
    stored(provisioned, TaskStatus.COMPLETED, task_type="TASK2")

    confirm = client.get("/dashboard/retry-matching?task_type=TASK2&range=1h", follow_redirects=True)
    assert "<h1>Retry 3 failed tasks?</h1>" in confirm.text
    assert "type TASK2, created in the last 1 h" in confirm.text
    ids = re.findall(r'<input type="hidden" name="ids" value="([^"]+)">', confirm.text)
    assert sorted(ids) == sorted(task.id for task in failed)
    back = unescape(re.search(r'name="back" value="([^"]+)"', confirm.text).group(1))
    assert back == "/dashboard?task_type=TASK2&range=1h"

    done = client.post("/dashboard/retry", data={"ids": ids, "csrf_token": csrf, "back": back})
    assert "Retried 3 of 3 selected tasks." in done.text
    assert all(provisioned.store.get(task.id).retried_as for task in failed)
    assert (
        "Nothing to retry"
        in client.get("/dashboard/retry-matching?task_type=TASK2", follow_redirects=True).text
    )


def test_back_then_confirm_on_retry_all_retries_nothing_more(stage):
    """The confirmation is pinned to when it was first shown: never the retries made from it."""
    provisioned, client, csrf = stage
    failed = [stored(provisioned, TaskStatus.FAILED, task_type="TASK2") for _ in range(2)]
    first = client.get("/dashboard/retry-matching?task_type=TASK2", follow_redirects=True)
    pinned = str(first.url)
    assert "as_of=" in pinned
    ids = re.findall(r'<input type="hidden" name="ids" value="([^"]+)">', first.text)
    assert sorted(ids) == sorted(task.id for task in failed)
    client.post("/dashboard/retry", data={"ids": ids, "csrf_token": csrf, "back": "/dashboard"})
    retries = [provisioned.store.get(task.id).retried_as for task in failed]
    for retry_id in retries:  # they fail too, as retries of bad data do
        tasks.change_status(provisioned.store, retry_id, TaskStatus.IN_PROGRESS, "")
        tasks.change_status(provisioned.store, retry_id, TaskStatus.FAILED, "it broke again")

    back = client.get(pinned)  # Back: the same address, asked again
    assert "Nothing to retry" in back.text
    assert not re.findall(r'name="ids" value="([^"]+)"', back.text)
    # Only a new look, asked for afresh, offers the failed retries (as generation 2).
    fresh = client.get("/dashboard/retry-matching?task_type=TASK2", follow_redirects=True)
    assert sorted(re.findall(r'name="ids" value="([^"]+)"', fresh.text)) == sorted(retries)


def test_a_row_that_was_retried_offers_its_retry_not_retry(client, csrf, provisioned):
    failed = stored(provisioned, TaskStatus.FAILED, task_type="TASK2")
    retry = tasks.retry_task(provisioned.store, failed.id, default_ttl_seconds=3600)
    page = client.get("/dashboard?status=FAILED&task_type=TASK2&range=1h").text
    row = re.search(rf'<tr id="task-{failed.id}".*?</tr>', page, re.S).group(0)
    assert f'href="/dashboard/tasks/{retry.id}" aria-label="Open the retry of task {failed.id[:8]}"' in row
    assert "retried as" in row and 'name="ids"' not in row and ">Retry</a>" not in row


def test_the_matching_link_is_offered_only_where_failed_tasks_can_match(client, csrf):
    assert 'id="retry-matching"' in client.get("/dashboard?status=FAILED").text
    assert 'id="retry-matching"' not in client.get("/dashboard?status=COMPLETED").text


# --- the task page: clone, attempts ---------------------------------------------------------------------


def test_retry_with_edited_data_opens_the_create_form_prefilled_and_makes_its_linked_retry(
    client, csrf, provisioned
):
    failed = stored(provisioned, TaskStatus.FAILED, data={"text": "fix me", "n": [1, 2]})
    detail = client.get(f"/dashboard/tasks/{failed.id}").text
    assert f'href="/dashboard/tasks/{failed.id}/clone">Retry with edited data</a>' in detail
    page = client.get(f"/dashboard/tasks/{failed.id}/clone")
    assert page.status_code == 200 and "<h1>Retry with edited data</h1>" in page.text
    assert json.loads(unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", page.text, re.S).group(1))) == {
        "text": "fix me",
        "n": [1, 2],
    }
    assert f'name="cloned_from" value="{failed.id}"' in page.text
    assert 'name="as_retry" value="1"' in page.text

    form = {
        "task_type": "TASK2",
        "data": '{"text": "fixed"}',
        "ttl": "",
        "cloned_from": failed.id,
        "as_retry": "1",
    }
    invalid = client.post("/dashboard/tasks", data={**form, "data": "{", "csrf_token": csrf})
    assert invalid.status_code == 422 and "<h1>Retry with edited data</h1>" in invalid.text
    redrawn = client.post(
        "/dashboard/tasks", data={**form, "data": "{"}, headers={**HTMX, "X-CSRF-Token": csrf}
    )
    assert redrawn.status_code == 422 and 'name="as_retry" value="1"' in redrawn.text

    created = client.post("/dashboard/tasks", data={**form, "csrf_token": csrf})
    assert created.status_code == 303
    new_id = created.headers["location"].rsplit("/", 1)[1]
    # Linked both ways, as a plain retry is: the original is never retried again.
    retry = provisioned.store.get(new_id)
    assert retry.data == {"text": "fixed"} and retry.retry_of == failed.id
    assert provisioned.store.get(failed.id).retried_as == new_id
    original_page = client.get(f"/dashboard/tasks/{failed.id}").text
    assert f'id="open-retry" href="/dashboard/tasks/{new_id}">Open the retry</a>' in original_page
    assert ">Retry</a>" not in original_page and "Retry with edited data" not in original_page
    retry_page = client.get(f"/dashboard/tasks/{new_id}").text
    assert (
        f'(retry 1 of <a class="mono" href="/dashboard/tasks/{failed.id}">{failed.id[:8]}</a>)' in retry_page
    )

    # Sent again (a second tab, a double click): refused, naming the retry; no second task.
    again = client.post("/dashboard/tasks", data=form, headers={**HTMX, "X-CSRF-Token": csrf})
    assert again.status_code == 422 and f"was retried already, as {new_id[:8]}" in again.text
    # A plain clone (no as_retry) stays a new task of its own.
    clone = client.post("/dashboard/tasks", data={**form, "as_retry": "", "csrf_token": csrf})
    assert provisioned.store.get(clone.headers["location"].rsplit("/", 1)[1]).retry_of is None
    done = stored(provisioned, TaskStatus.COMPLETED)
    assert ">Clone</a>" in client.get(f"/dashboard/tasks/{done.id}").text


def test_the_task_page_shows_every_attempt_and_its_outcome(client, csrf, provisioned):
    start = time.time() - 30
    task = a_task(now=start)
    provisioned.store.add(task)
    first = task.moved_to(TaskStatus.IN_PROGRESS, "attempt 1 started", start + 0.25, attempt=1)
    provisioned.store.replace_if(first, expected=task)
    second = first.moved_to(TaskStatus.IN_PROGRESS, "attempt 2 resumed", start + 5, attempt=2)
    provisioned.store.replace_if(second, expected=first)
    provisioned.store.replace_if(second.moved_to(TaskStatus.COMPLETED, "done", start + 6), expected=second)
    worker = "worker TASK1"
    provisioned.store.add_events(
        [
            event_of(task, Hop.DELIVERED, start + 0.2, worker, attempt=1),
            event_of(task, Hop.STARTED, start + 0.25, worker, attempt=1, status="IN_PROGRESS"),
            event_of(task, Hop.CRASHED, start + 1.5, worker, attempt=1, message="MemoryError: boom"),
            event_of(task, Hop.RESUMED, start + 5, worker, attempt=2, status="IN_PROGRESS"),
            event_of(task, Hop.COMPLETED, start + 6, worker, attempt=2, status="COMPLETED", message="done"),
        ]
    )
    page = client.get(f"/dashboard/tasks/{task.id}").text
    attempts = re.search(r'<section id="attempts".*?</section>', page, re.S).group(0)
    rows = re.findall(r'<tr class="attempt outcome-(\w+)" data-attempt="(\d)">', attempts)
    assert rows == [("crashed", "1"), ("completed", "2")]
    assert "MemoryError: boom" in attempts and "1.2 s" in attempts and "1.0 s" in attempts
    assert "(resumed)" in attempts
    assert re.search(r'<dd id="queue-wait">250 ms', page)


def test_a_task_no_worker_started_says_so(client, csrf, provisioned):
    (waiting,) = new_tasks(provisioned, 1)
    page = client.get(f"/dashboard/tasks/{waiting.id}").text
    assert "No worker has started this task yet." in page and "waiting for" in page


# --- compression ----------------------------------------------------------------------------------------


def test_html_and_json_are_gzipped_by_the_local_server(client, csrf, provisioned):
    new_tasks(provisioned, 3)
    page = client.get("/dashboard", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip" and "<html" in page.text
    listing = client.get("/tasks?limit=50", headers={"Accept-Encoding": "gzip", "x-api-key": "test-key"})
    assert listing.headers["content-encoding"] == "gzip" and listing.json()["tasks"]
    plain = client.get("/dashboard", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


def test_behind_api_gateway_the_app_leaves_compression_to_it(deployed):
    from app.main import handler
    from tests.integration.test_handlers import Context, event

    for _ in range(5):
        deployed.store.add(a_task(data={"text": "x" * 300}))
    request = event("apigw_http_event.json")
    request["headers"].update({"x-api-key": "handler-test-key", "accept-encoding": "gzip"})
    response = handler(request, Context())
    assert response["statusCode"] == 200 and not response.get("isBase64Encoded")
    assert "content-encoding" not in {name.lower() for name in response["headers"]}
    assert len(json.loads(response["body"])["tasks"]) == 5
    with pytest.raises(gzip.BadGzipFile):
        gzip.decompress(response["body"].encode())


def test_ids_used_in_tests_are_unique():
    # dataclasses.replace keeps every other field of a factory task: the prefix tests rely on it.
    task = dataclasses.replace(a_task(), id=str(uuid.uuid4()))
    assert task.data and task.created_ms
