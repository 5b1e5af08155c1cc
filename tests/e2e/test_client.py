"""The Python client and the async-app CLI against `python -m app.local` (what `make run` starts).

Results, cancel, run_at, Idempotency-Key, Retry-After and signed webhooks to a
receiver on loopback, end to end through the local runtime.
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
from async_app_client import (
    AsyncAppClient,
    Conflict,
    IdempotencyKeyReused,
    InvalidRequest,
    NotFound,
    Unauthorized,
)
from standardwebhooks import Webhook

from tests.conftest import wait_until
from tests.webhook_receiver import webhook_receiver

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

    assert (done.status, done.status_msg, done.result) == ("COMPLETED", "done in 1 s", {"slept_seconds": 1})
    assert accepted.retry_after == 1
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
    assert (done.status, done.status_msg, done.result) == ("COMPLETED", "counted 4 words", {"words": 4})
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


def hops(client, task_id: str) -> list[str]:
    return [event.hop for event in client.events(task_id)]


def test_a_running_task_cancelled_ends_cancelled_at_its_next_progress_report(client):
    task_id = client.create("TASK1", {"duration_seconds": 10}).id
    wait_until(lambda: client.get(task_id).status == "IN_PROGRESS", timeout=20, what="the task to start")
    asked = client.cancel(task_id)
    assert asked.status == "IN_PROGRESS" and asked.cancel_requested.startswith("api key ")

    started = time.monotonic()
    done = client.wait(task_id, timeout=20)
    assert (done.status, done.result) == ("CANCELLED", None)
    assert done.status_msg == f"cancelled by {asked.cancel_requested}"
    assert time.monotonic() - started < 5  # at its next progress report, not at its end (10 s)
    events = wait_until(lambda: (h := hops(client, task_id)) and h[-1] == "cancelled" and h, what="cancelled")
    assert events.index("cancel_requested") < events.index("cancelled")
    with pytest.raises(Conflict) as refused:
        client.cancel(task_id)
    assert refused.value.current_status == "CANCELLED"


def test_a_scheduled_task_waits_then_runs_or_is_cancelled(client):
    run_at = int(time.time()) + 3
    accepted = client.create("TASK2", {"text": "later on"}, run_at=run_at)
    assert client.get(accepted.id).status == "SCHEDULED"
    listed = [task.id for task in client.iter_tasks(status="SCHEDULED", created_from=run_at - 60)]
    assert accepted.id in listed

    done = client.wait(accepted.id, timeout=30)
    assert (done.status, done.result, done.run_at) == ("COMPLETED", {"words": 2}, run_at)
    due = next(event for event in client.events(accepted.id) if event.hop == "due")
    # Not before its run_at; within a few seconds of it (the local scheduler runs every second).
    assert run_at * 1000 <= due.at_ms <= run_at * 1000 + 5000

    far = client.create("TASK2", {"text": "never"}, run_at=int(time.time()) + 3600)
    assert client.cancel(far.id).status == "CANCELLED"
    with pytest.raises(InvalidRequest) as refused:
        client.create("TASK2", {}, run_at=int(time.time()) - 60)
    assert "in the past" in refused.value.message


def test_the_same_idempotency_key_gets_the_same_task(client):
    key = f"e2e-{uuid.uuid4()}"
    first = client.create("TASK2", {"text": "once"}, idempotency_key=key)
    again = client.create("TASK2", {"text": "once"}, idempotency_key=key)
    assert (again.id, again.location, again.replayed) == (first.id, first.location, True)
    with pytest.raises(IdempotencyKeyReused) as refused:
        client.create("TASK2", {"text": "twice"}, idempotency_key=key)
    assert refused.value.status_code == 422


def webhook_secret(live_stack) -> str:
    """make run made one for its data folder (tests/conftest.py: LOCAL_DATA_DIR)."""
    return (live_stack.log_path.parent / "data" / "webhook-secret").read_text().strip()


def test_a_finished_task_is_posted_signed_to_its_callback_retried_and_resent(client, live_stack):
    with webhook_receiver() as receiver:
        receiver.answers = [500]  # the first attempt fails; the next comes a second later
        accepted = client.create("TASK2", {"text": "call me back"}, callback_url=receiver.url)
        done = client.wait(accepted.id, timeout=30)
        wait_until(lambda: len(receiver.received) == 2, timeout=30, what="two webhook attempts")

        verify = Webhook(webhook_secret(live_stack))
        first, second = receiver.received
        assert first.headers["webhook-id"] == second.headers["webhook-id"] == f"msg_{accepted.id}"
        payload = verify.verify(second.body, second.headers)
        assert payload == done.raw and payload["result"] == {"words": 3}

        def webhook_events():
            events = [event for event in client.events(accepted.id) if event.hop == "webhook"]
            return events if len(events) == 2 else None

        events = wait_until(webhook_events, what="both attempts on the timeline")
        assert [(event.attempt, event.http_status) for event in events] == [(1, 500), (2, 200)]

        resent = client.resend_webhook(accepted.id)
        assert resent.raw == {"id": accepted.id, "send": 2}
        wait_until(lambda: len(receiver.received) == 3, timeout=30, what="the resent webhook")
        assert verify.verify(receiver.received[2].body, receiver.received[2].headers)["id"] == accepted.id


def test_the_cli_schedules_cancels_and_replays(live_stack):
    run_at = str(int(time.time()) + 3600)
    created = async_app(
        live_stack, "tasks", "create", "TASK1", "--run-at", run_at,
        "--idempotency-key", f"cli-{uuid.uuid4()}", "--callback-url", "http://127.0.0.1:9/hook", "--json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    task_id = json.loads(created.stdout)["id"]
    shown = json.loads(async_app(live_stack, "tasks", "get", task_id, "--json").stdout)
    assert (shown["status"], shown["run_at"], shown["callback_url"]) == (
        "SCHEDULED", int(run_at), "http://127.0.0.1:9/hook",
    )  # fmt: skip
    cancelled = async_app(live_stack, "tasks", "cancel", task_id, "--wait", "--quiet", "--json")
    assert cancelled.returncode == 3 and json.loads(cancelled.stdout)["status"] == "CANCELLED"
