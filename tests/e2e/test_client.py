"""The Python client and the async-app CLI against `python -m app.local` (what `make run` starts).

Only what today's server does; cancel, Idempotency-Key, result, run_at and
callback_url are covered by the unit tests in tests/client/ until the server has them.
"""

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from async_app_client import AsyncAppClient, Conflict, InvalidRequest, NotFound, Unauthorized

from tests.conftest import wait_until

pytestmark = pytest.mark.e2e

CLI = Path(sys.executable).parent / "async-app"


@pytest.fixture
def client(live_stack):
    with AsyncAppClient(live_stack.base_url, live_stack.api_key, env={}) as client:
        yield client


def test_create_get_and_wait_until_completed(client, live_stack):
    accepted = client.create("TASK1", {"duration_seconds": 1}, ttl=int(time.time()) + 600)
    assert accepted.location == f"{live_stack.base_url}/tasks/{accepted.id}"
    assert client.get(accepted.id).task_type == "TASK1"

    seen = []
    done = client.wait(accepted.id, timeout=30, on_update=seen.append)

    assert (done.status, done.status_msg) == ("COMPLETED", "done in 1 s")
    assert seen[-1] == done and {task.status for task in seen} <= {"CREATED", "IN_PROGRESS", "COMPLETED"}
    reported = [task.progress for task in seen if task.progress is not None]
    assert reported == sorted(reported)


def test_a_failed_task_is_retried_as_a_new_linked_task(client):
    failed = client.wait(client.create("TASK2", {"words": "none"}).id, timeout=30)
    assert (failed.status, failed.status_msg) == ("FAILED", "data.text must be a string")

    retried = client.retry(failed.id)
    assert retried.retry_of == failed.id and retried.id != failed.id
    again = client.wait(retried.id, timeout=30)
    assert (again.status, again.retry_of) == ("FAILED", failed.id)


def test_a_completed_task_cannot_be_retried(client):
    done = client.wait(client.create("TASK2", {"text": "to be or not"}).id, timeout=30)
    assert (done.status, done.status_msg) == ("COMPLETED", "counted 4 words")
    with pytest.raises(Conflict) as caught:
        client.retry(done.id)
    assert caught.value.current_status == "COMPLETED"


def test_iter_tasks_follows_next_token_newest_first(client):
    start = int(time.time())
    mine = [client.create("TASK2", {"text": f"page {n}"}).id for n in range(3)]

    first = client.list_tasks(task_type="TASK2", created_from=start, limit=1)
    assert len(first.tasks) == 1 and first.next_token
    listed = [task.id for task in client.iter_tasks(task_type="TASK2", created_from=start, limit=1)]

    assert len(listed) == len(set(listed))
    assert [task_id for task_id in listed if task_id in mine] == mine[::-1]


def test_events_are_the_tasks_timeline(client):
    task_id = client.create("TASK1", {"duration_seconds": 0}).id
    assert client.wait(task_id, timeout=30).status == "COMPLETED"

    def final_event_written():
        events = client.events(task_id)
        return events if events and events[-1].hop == "completed" else None

    events = wait_until(final_event_written, timeout=10, what="the completed event")
    assert events[0].hop == "created" and events[-1].status == "COMPLETED"
    assert [event.since_created_ms for event in events] == sorted(event.since_created_ms for event in events)


def test_the_servers_errors_arrive_as_exceptions(client, live_stack):
    with pytest.raises(NotFound):
        client.get(str(uuid.uuid4()))
    with pytest.raises(InvalidRequest) as caught:
        client.create("NO_SUCH_TYPE", {})
    assert caught.value.status_code == 422 and caught.value.details[0]["location"] == "body.task_type"
    with AsyncAppClient(live_stack.base_url, "wrong-key", env={}) as stranger, pytest.raises(Unauthorized):
        stranger.get(str(uuid.uuid4()))


def async_app(live_stack, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ASYNC_APP_URL": live_stack.base_url, "ASYNC_APP_API_KEY": live_stack.api_key}
    return subprocess.run([str(CLI), *args], env=env, capture_output=True, text=True, timeout=60)


def test_the_cli_creates_follows_and_shows_tasks(live_stack):
    created = async_app(live_stack, "tasks", "create", "TASK1", "--data", '{"duration_seconds": 1}', "--json")
    assert created.returncode == 0, created.stderr
    task_id = json.loads(created.stdout)["id"]

    waited = async_app(live_stack, "tasks", "wait", task_id, "--timeout", "30", "--json")
    assert waited.returncode == 0, waited.stderr
    assert json.loads(waited.stdout)["status"] == "COMPLETED"
    # stderr is not a terminal here: one progress line per change, the last one full.
    assert waited.stderr.splitlines()[-1].startswith("[##############################] 100%  COMPLETED")

    shown = async_app(live_stack, "tasks", "get", task_id)
    assert shown.returncode == 0 and re.search(rf"^id\s+{task_id}$", shown.stdout, re.M)

    listed = async_app(live_stack, "tasks", "list", "--task-type", "TASK1", "--max", "50", "--json")
    assert listed.returncode == 0 and task_id in [task["id"] for task in json.loads(listed.stdout)]

    events = async_app(live_stack, "tasks", "events", task_id, "--json")
    assert events.returncode == 0 and json.loads(events.stdout)[0]["hop"] == "created"


def test_the_cli_exit_codes_say_how_it_ended(live_stack):
    failed = async_app(live_stack, "tasks", "create", "TASK2", "--data", "{}", "--wait", "--quiet", "--json")
    assert failed.returncode == 1, failed.stderr
    failed_id = json.loads(failed.stdout)["id"]

    retried = async_app(live_stack, "tasks", "retry", failed_id, "--wait", "--quiet", "--json")
    assert retried.returncode == 1 and json.loads(retried.stdout)["retry_of"] == failed_id

    missing = async_app(live_stack, "tasks", "get", str(uuid.uuid4()))
    assert missing.returncode == 5 and "404 not_found" in missing.stderr

    wrong_key = async_app(live_stack, "--api-key", "wrong", "tasks", "list")
    assert wrong_key.returncode == 5 and "401 unauthorized" in wrong_key.stderr
