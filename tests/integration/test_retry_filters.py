"""Retrying and gave up as filters with counts, through the local runtime: a FLAKY task crash-loops
until it gives up, seen on GET /tasks and on the dashboard (without JavaScript) at each step.

The publisher, the changes function and FLAKY's worker run as the local runtime runs them (its
pollers, on a fresh stage); the api and the dashboard are the app in a TestClient.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.adapters.aggregates import TaskAggregates
from app.main import create_app
from app.settings import Settings, get_settings
from app.task_registry import read_folder
from tests.conftest import wait_until
from tests.integration.conftest import functions_running
from tests.integration.test_dashboard import row_ids, sign_in
from tests.integration.test_write_model import write_model

pytestmark = pytest.mark.integration
KEY = {"x-api-key": "test-key"}
FLAKY = read_folder(include_local_only=True)["FLAKY"]


def settings_of(deployed) -> Settings:
    # Served at the root, as the TestClient asks (not under the REST API's stage, /dev).
    return Settings(table_name=deployed.resources.table_name, api_keys="test-key", root_path="")


@pytest.fixture
def running(deployed, monkeypatch) -> Iterator[tuple[TestClient, TaskAggregates]]:
    """The pipeline for FLAKY, and the app on the same stage; its first backoff long enough to look."""
    monkeypatch.setenv("RETRY_DELAYS", "4,1")
    get_settings.cache_clear()
    table = deployed.resources.table_name
    counter = TaskAggregates(table, deployed.clients["dynamodb"], counter_shards=1)
    app = create_app(settings_of(deployed), store=deployed.store, counter=counter)
    # The stream's functions, FLAKY's workers and the dead-letter handler, which ends the task whose
    # last delivery ran out (maxReceiveCount = max_attempts).
    streams = {function.name for function in deployed.topology.stream_functions}
    running = streams | {FLAKY.function_name, "deadLetters"}
    with functions_running(deployed, lambda name: name in running):
        yield TestClient(app, follow_redirects=False), counter


def listed(client: TestClient, **filters: str) -> list[str]:
    response = client.get("/tasks", params={**filters, "limit": "100"}, headers=KEY)
    assert response.status_code == 200, response.text
    return [task["id"] for task in response.json()["tasks"]]


def counted(counter: TaskAggregates) -> dict[str, int]:
    numbers, _ = counter.counts("FLAKY")
    return {name: number for name, number in numbers.items() if number}


def chip(html: str, retry_state: str) -> str:
    """The number on the count chip of a retry state."""
    import re

    found = re.search(rf'data-retry-state="{retry_state}".*?<span class="number">([\d,]+)</span>', html, re.S)
    assert found, html
    return found.group(1)


def test_a_crash_looping_task_is_listed_and_counted_as_retrying_then_as_gave_up(running, deployed):
    client, counter = running
    body = {"task_type": "FLAKY", "data": {"crash_attempts": FLAKY.max_attempts}}
    task_id = client.post("/tasks", json=body, headers=KEY).json()["id"]
    failing = {"task_type": "FLAKY", "data": {"crash_attempts": 0, "fail_message": "bad input"}}
    failed_id = client.post("/tasks", json=failing, headers=KEY).json()["id"]

    # Between attempts: listed under retrying (and still under IN_PROGRESS), counted apart.
    wait_until(lambda: task_id in listed(client, retry_state="retrying"), timeout=20, what="retrying")
    task = client.get(f"/tasks/{task_id}", headers=KEY).json()
    assert (task["status"], task["retry_state"]) == ("IN_PROGRESS", "retrying")
    assert task_id in listed(client, status="IN_PROGRESS")
    wait_until(lambda: counted(counter).get("RETRYING") == 1, timeout=15, what="the retrying count")
    assert counted(counter)["IN_PROGRESS"] == 1  # the status counts keep it: retrying is a part of it

    sign_in(client)
    page = client.get("/dashboard", params={"retry_state": "retrying"})
    assert page.status_code == 200 and row_ids(page.text) == [task_id]
    assert '<option value="retrying" selected>' in page.text
    assert chip(page.text, "retrying") == "1"
    running_only = client.get("/dashboard", params={"status": "IN_PROGRESS", "retry_state": "none"})
    assert task_id not in row_ids(running_only.text)

    # Its attempts ran out: FAILED, marked gave up, unlike the task whose run failed.
    def gave_up() -> bool:
        return client.get(f"/tasks/{task_id}", headers=KEY).json()["retry_state"] == "gave_up"

    wait_until(gave_up, timeout=40, interval=0.25, what="the task to give up")
    ended = client.get(f"/tasks/{task_id}", headers=KEY).json()
    assert (ended["status"], ended["attempt"]) == ("FAILED", FLAKY.max_attempts)
    assert client.get(f"/tasks/{failed_id}", headers=KEY).json()["retry_state"] is None
    assert listed(client, retry_state="gave_up") == [task_id]
    assert set(listed(client, status="FAILED")) == {task_id, failed_id}
    assert listed(client, status="FAILED", retry_state="none") == [failed_id]
    assert listed(client, retry_state="none") == [failed_id]  # every status's own partition
    assert listed(client, retry_state="retrying") == []
    wait_until(
        lambda: counted(counter) == {"FAILED": 2, "GAVE_UP": 1},
        timeout=15,
        what="the counts after giving up",
    )
    page = client.get("/dashboard", params={"retry_state": "gave_up"})
    assert row_ids(page.text) == [task_id]
    assert (chip(page.text, "gave_up"), chip(page.text, "retrying")) == ("1", "0")

    # What the filters cost, as the write model says (scripts/write_model.py retry_state_units).
    indexes = write_model.indexes_of(deployed.topology.table.global_secondary_indexes)
    model = write_model.measure(deployed.stream_records(), indexes)
    extra = write_model.retry_state_units(indexes)
    crashes, per_status_index = FLAKY.max_attempts, extra["crash_in"] // 2
    # Each task: 1 into CREATED, 2 into IN_PROGRESS, 2 into FAILED (or GAVE_UP); then each crash
    # into RETRYING and each later claim out of it.
    expected = 2 * 5 + crashes * per_status_index + (crashes - 1) * per_status_index
    assert model.index_units["by_status"]["FLAKY"] == expected
    assert model.index_units["by_type_status"]["FLAKY"] == expected


def test_an_unknown_retry_state_is_a_422_naming_it_and_one_no_status_fits_lists_nothing(deployed):
    client = TestClient(create_app(settings_of(deployed), store=deployed.store))
    response = client.get("/tasks", params={"retry_state": "sometimes"}, headers=KEY)
    assert response.status_code == 422, response.text
    assert "retry_state" in response.json()["message"]
    for status, state in (("COMPLETED", "retrying"), ("IN_PROGRESS", "gave_up")):
        response = client.get("/tasks", params={"status": status, "retry_state": state}, headers=KEY)
        assert (response.status_code, response.json()) == (200, {"tasks": [], "next_token": None})


def test_the_dashboard_explains_a_contradicting_retry_filter_inline(deployed):
    client = TestClient(create_app(settings_of(deployed), store=deployed.store), follow_redirects=False)
    sign_in(client)
    page = client.get("/dashboard", params={"status": "COMPLETED", "retry_state": "retrying"})
    assert page.status_code == 200
    assert 'id="filter-retry-state-error" role="alert"' in page.text and "IN_PROGRESS tasks only" in page.text
