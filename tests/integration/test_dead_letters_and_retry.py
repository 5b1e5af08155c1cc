"""Undeliverable dead letters are acknowledged, not looped; retrying a task twice returns the first retry."""

from __future__ import annotations

import copy
import io
import json
import threading

import pytest
from fastapi.testclient import TestClient

from app import observability
from app.domain.listing import TaskQuery
from app.domain.task import TaskStatus
from app.main import create_app
from app.services import tasks
from app.settings import Settings
from tests.factories import a_task
from tests.integration.test_handlers import Context, event

pytestmark = pytest.mark.integration
KEY = {"x-api-key": "retry-key"}


def dlq_record(body: str, message_id: str) -> dict:
    record = copy.deepcopy(event("sqs_event.json")["Records"][0])
    record.update(body=body, messageId=message_id)
    return record


def test_undeliverable_dead_letters_are_acknowledged_with_a_log_line(deployed):
    from workers.dead_letters import handler

    task = a_task()
    deployed.store.add(task)
    records = [
        dlq_record("not json at all", "malformed"),
        dlq_record(json.dumps({"task_id": "x" * 5000, "task_type": "TASK1"}), "rejected-by-dynamodb"),
        dlq_record(json.dumps({"task_id": "TASK#../../etc", "task_type": "TASK1"}), "not-a-task-id"),
        dlq_record(json.dumps({"task_id": task.id, "task_type": "TASK1"}), "real"),
    ]
    logger_handler = observability.get_logger().registered_handler
    written = io.StringIO()
    stream, logger_handler.stream = logger_handler.stream, written
    try:
        assert handler({"Records": records}, Context()) == {"batchItemFailures": []}
    finally:
        logger_handler.stream = stream
    lines = [json.loads(line) for line in written.getvalue().splitlines() if line.startswith("{")]
    dropped = {
        line["message_id"]: line for line in lines if line["message"].startswith("undeliverable message")
    }
    assert set(dropped) == {"malformed", "rejected-by-dynamodb", "not-a-task-id"}
    assert dropped["malformed"]["reason"] == "not a task message"
    assert dropped["rejected-by-dynamodb"]["reason"] == "its task_id is not a task id"
    assert len(dropped["rejected-by-dynamodb"]["body"]) <= 500
    # The real one never had an attempt: its message ran out of deliveries, so it is sent again.
    again = deployed.store.get(task.id)
    assert (again.status, again.redispatches) == (TaskStatus.CREATED, 1)


@pytest.fixture(scope="module")
def client(provisioned) -> TestClient:
    settings = Settings(table_name=provisioned.resources.table_name, api_keys=KEY["x-api-key"])
    return TestClient(create_app(settings, store=provisioned.store))


def failed_task(provisioned):
    task = a_task()
    provisioned.store.add(task)
    return tasks.change_status(provisioned.store, task.id, TaskStatus.FAILED, "it broke")


def retries_of(provisioned, task_id: str) -> list[str]:
    listed = tasks.list_tasks(provisioned.store, TaskQuery(limit=100))
    return [task.id for task in listed.tasks if task.retry_of == task_id]


def test_retrying_twice_returns_the_first_retry(client, provisioned):
    original = failed_task(provisioned)
    first = client.post(f"/tasks/{original.id}/retry", headers=KEY)
    second = client.post(f"/tasks/{original.id}/retry", headers=KEY)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json() == {"id": first.json()["id"], "retry_of": original.id}
    assert first.headers["location"] == second.headers["location"]
    assert retries_of(provisioned, original.id) == [first.json()["id"]]
    assert client.get(f"/tasks/{original.id}", headers=KEY).json()["retried_as"] == first.json()["id"]


def test_concurrent_retries_make_one_task(client, provisioned):
    original = failed_task(provisioned)
    answers: list[str] = []
    start = threading.Barrier(6)

    def retry() -> None:
        start.wait()
        response = client.post(f"/tasks/{original.id}/retry", headers=KEY)
        answers.append(f"{response.status_code} {response.json()['id']}")

    threads = [threading.Thread(target=retry) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == 6 and len(set(answers)) == 1 and answers[0].startswith("202 ")
    assert retries_of(provisioned, original.id) == [answers[0].split()[1]]
    events = [e.message for e in provisioned.store.events(original.id) if e.hop.value == "retried"]
    assert events == [f"retried as {answers[0].split()[1]}"]
