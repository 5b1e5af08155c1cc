"""Hostile input is refused at the edge with a clear 4xx, and the read path never fails on stored data."""

from __future__ import annotations

import dataclasses
import io
import json
import time
import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app import observability
from app.adapters.sharding import ShardCounts
from app.adapters.task_item import to_item
from app.adapters.task_store import TaskStore
from app.api.errors import register_error_handlers
from app.domain import rules
from app.domain.errors import Throttled
from app.domain.task import TaskStatus
from app.main import create_app
from app.services import tasks
from app.settings import Settings
from tests.factories import a_task

pytestmark = pytest.mark.integration
KEY = {"x-api-key": "hostile-key"}
JSON = {**KEY, "content-type": "application/json"}


@pytest.fixture(scope="module")
def settings(provisioned) -> Settings:
    return Settings(table_name=provisioned.resources.table_name, api_keys=KEY["x-api-key"])


@pytest.fixture(scope="module")
def client(settings, provisioned) -> TestClient:
    return TestClient(create_app(settings, store=provisioned.store))


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def future() -> int:
    return int(time.time()) + 3600


REFUSED_BODIES = [
    # (method, body, status, error, fragment)
    (
        "POST",
        '{"task_type": "TASK1", "data": {"x": ' + deep(256) + "}}",
        422,
        "too_deeply_nested",
        "at most 32",
    ),
    ("POST", '{"task_type": "TASK1", "data": {"x": ' + deep(100_000) + "}}", 422, "too_deeply_nested", "32"),
    ("POST", '{"task_type": "TASK1", "data": {"x": NaN}}', 400, "invalid_json", "NaN is not a JSON number"),
    ("POST", '{"task_type": "TASK1", "data": {}, "ttl": Infinity}', 400, "invalid_json", "Infinity"),
    ("POST", '{"task_type": "TASK1", "data": {}, "extra": -Infinity}', 400, "invalid_json", "-Infinity"),
    ("POST", '{"task_type": "TASK1", "data": {"x": [1e999]}}', 400, "invalid_json", "infinity"),
    ("POST", '{"task_type": "TASK1", "data": {"x": "\\ud800"}}', 400, "invalid_json", "lone surrogate"),
    ("POST", '{"task_type": "TASK1", "data": {"\\udc00": 1}}', 400, "invalid_json", "lone surrogate"),
    ("POST", '{"task_type": "TASK\\ud800", "data": {}}', 400, "invalid_json", "lone surrogate"),
    (
        "POST",
        '{"task_type": "TASK1", "data": {}, "ttl": "' + "9" * 201 + '"}',
        422,
        "invalid_input",
        "365 days",
    ),
    (
        "POST",
        '{"task_type": "TASK1", "data": {}, "ttl": ' + "9" * 201 + "}",
        422,
        "invalid_input",
        "365 days",
    ),
    (
        "POST",
        '{"task_type": "TASK1", "data": {}, "ttl": 100000000000000000000}',
        422,
        "invalid_input",
        "ahead",
    ),
    (
        "POST",
        '{"task_type": "TASK1", "data": {"n": ' + "1" * 4301 + "}}",
        400,
        "invalid_json",
        "too many digits",
    ),
    ("PATCH", '{"status": "FAILED", "status_msg": "\\udfff"}', 400, "invalid_json", "lone surrogate"),
    ("PATCH", '{"status": "FAILED", "status_msg": NaN}', 400, "invalid_json", "NaN"),
    ("PATCH", '{"status": "FAILED", "status_msg": "' + "x" * 1001 + '"}', 422, "invalid_request", "1000"),
]


@pytest.mark.parametrize(("method", "body", "status", "error", "fragment"), REFUSED_BODIES)
def test_hostile_bodies_get_a_clear_4xx_and_nothing_is_stored(client, method, body, status, error, fragment):
    target = client.post("/tasks", json={"task_type": "TASK1", "data": {}}, headers=KEY).headers["location"]
    path = "/tasks" if method == "POST" else target
    before = client.get("/tasks", params={"limit": 1}, headers=KEY).json()["tasks"][0]["id"]
    response = client.request(method, path, content=body.encode(), headers=JSON)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error and fragment in response.json()["message"], response.text
    assert client.get("/tasks", params={"limit": 1}, headers=KEY).json()["tasks"][0]["id"] == before
    assert client.get(target, headers=KEY).json()["status"] == "CREATED"


def test_a_listing_stays_200_after_every_input_this_issue_names(client):
    for method, body, *_ in REFUSED_BODIES:
        if method == "POST":
            client.post("/tasks", content=body.encode(), headers=JSON)
    listed = client.get("/tasks", params={"limit": 100}, headers=KEY)
    assert listed.status_code == 200 and listed.json()["tasks"]
    for task in listed.json()["tasks"][:10]:
        assert client.get(f"/tasks/{task['id']}", headers=KEY).status_code == 200


def test_ttl_is_accepted_up_to_a_year_ahead(client):
    now = int(time.time())
    latest = now + rules.MAX_TTL_SECONDS - 60
    assert (
        client.post("/tasks", json={"task_type": "TASK1", "data": {}, "ttl": latest}, headers=KEY).status_code
        == 202
    )
    too_late = client.post(
        "/tasks", json={"task_type": "TASK1", "data": {}, "ttl": now + 400 * 86400}, headers=KEY
    )
    assert too_late.status_code == 422 and "more than 365 days ahead" in too_late.json()["message"]


@pytest.mark.parametrize(
    ("method", "suffix"), [("GET", ""), ("PATCH", ""), ("GET", "/events"), ("POST", "/retry")]
)
@pytest.mark.parametrize(
    "task_id", ["not-a-uuid", "x" * 5000, "0B6F3F8E-6A0E-4A55-9D4F-2F0C1D7B9A10", "%ED%A0%80"]
)
def test_ids_that_are_not_task_ids_are_404_and_never_reach_dynamodb(settings, method, suffix, task_id):
    import boto3
    from botocore.config import Config

    # A store that can't be reached: any call to it would answer 503.
    dead = boto3.client(
        "dynamodb",
        endpoint_url="http://127.0.0.1:9",
        region_name="eu-west-1",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    client = TestClient(create_app(settings, store=TaskStore("t", dead)))
    body = {"status": "FAILED"} if method == "PATCH" else None
    response = client.request(method, f"/tasks/{task_id}{suffix}", json=body, headers=KEY)
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "not_found" and len(response.json()["message"]) < 120


def test_a_body_over_the_size_limit_is_413_before_it_is_parsed(settings, provisioned):
    client = TestClient(
        create_app(dataclasses.replace(settings, max_request_bytes=1000), store=provisioned.store)
    )
    big = b'{"task_type": "TASK1", "data": {"x": "' + b"y" * 2000 + b'"}}'
    response = client.post("/tasks", content=big, headers=JSON)
    assert response.status_code == 413 and response.json()["error"] == "request_too_large"
    assert "1000 bytes" in response.json()["message"]
    # Sent without a length (chunked): counted as it arrives, refused the same.
    chunked = client.post("/tasks", content=iter([big[:600], big[600:]]), headers=JSON)
    assert chunked.status_code == 413 and chunked.json()["error"] == "request_too_large"
    # Not valid JSON either, but it is refused for its size first: nothing parsed it.
    broken = client.post("/tasks", content=b"{" * 2000, headers=JSON)
    assert broken.status_code == 413
    # The dashboard's forms too, before sign-in is even looked at.
    assert client.post("/dashboard/login", content=b"x" * 2000).status_code == 413
    small = client.post("/tasks", content=b'{"task_type": "TASK1", "data": {}}', headers=JSON)
    assert small.status_code == 202


@pytest.fixture
def log_lines():
    """What the Powertools logger writes during the test, as JSON lines."""
    handler = observability.get_logger().registered_handler
    written = io.StringIO()
    stream, handler.stream = handler.stream, written
    yield lambda: [json.loads(line) for line in written.getvalue().splitlines() if line.startswith("{")]
    handler.stream = stream


DAMAGED = {
    "deeper than the encoder reads": lambda item: item["data"].update(S=deep(300).join(['{"x": ', "}"])),
    "a lone surrogate": lambda item: item["data"].update(S='{"x": "\\ud800"}'),
    "NaN": lambda item: item["data"].update(S='{"x": NaN}'),
    "not JSON": lambda item: item["data"].update(S="{broken"),
    "not an object": lambda item: item["data"].update(S="[1, 2]"),
    "no data at all": lambda item: item.pop("data"),
    "an unknown status": lambda item: item["status"].update(S="EXPLODED"),
    "no created_time": lambda item: item.pop("created_time"),
}


@pytest.mark.parametrize("damage", DAMAGED)
def test_a_stored_task_that_cannot_be_read_is_listed_with_a_marker_and_logged(
    client, provisioned, log_lines, damage
):
    task = a_task(data={"ok": True})
    item = to_item(task, ShardCounts())
    DAMAGED[damage](item)
    provisioned.clients["dynamodb"].put_item(TableName=provisioned.resources.table_name, Item=item)
    healthy = client.post("/tasks", json={"task_type": "TASK1", "data": {"fine": 1}}, headers=KEY).json()[
        "id"
    ]

    listed = client.get("/tasks", params={"limit": 100}, headers=KEY)
    assert listed.status_code == 200, listed.text
    by_id = {t["id"]: t for t in listed.json()["tasks"]}
    assert by_id[task.id]["unreadable"] and by_id[task.id]["data"] is None
    assert by_id[healthy]["unreadable"] is None and by_id[healthy]["data"] == {"fine": 1}
    got = client.get(f"/tasks/{task.id}", headers=KEY)
    assert got.status_code == 200 and got.json()["unreadable"] == by_id[task.id]["unreadable"]
    logged = [line for line in log_lines() if line.get("task_id") == task.id]
    assert logged and {line["message"] for line in logged} == {"stored task unreadable"}
    assert logged[0]["reason"] == by_id[task.id]["unreadable"] and logged[0]["level"] == "ERROR"


def test_an_unreadable_task_can_still_be_failed_but_not_retried(client, provisioned):
    task = a_task()
    item = to_item(task, ShardCounts())
    item["data"]["S"] = '{"x": "\\ud800"}'
    provisioned.clients["dynamodb"].put_item(TableName=provisioned.resources.table_name, Item=item)
    failed = client.patch(
        f"/tasks/{task.id}", json={"status": "FAILED", "status_msg": "bad data"}, headers=KEY
    )
    assert failed.status_code == 200 and failed.json()["status"] == "FAILED" and failed.json()["unreadable"]
    retried = client.post(f"/tasks/{task.id}/retry", headers=KEY)
    assert retried.status_code == 409 and "unreadable" in retried.json()["message"]
    assert tasks.get_task(provisioned.store, task.id).status is TaskStatus.FAILED


def test_the_openapi_document_needs_the_key(client):
    assert client.get("/openapi.json").status_code == 401
    document = client.get("/openapi.json", headers=KEY).json()
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
    }


def test_an_unsupported_method_is_405_naming_every_allowed_one(client):
    response = client.delete(f"/tasks/{uuid.uuid4()}", headers=KEY)
    assert response.status_code == 405 and response.json()["error"] == "http_error"
    assert {m.strip() for m in response.headers["allow"].split(",")} >= {"GET", "PATCH"}


def test_a_throttled_request_is_a_json_429_with_retry_after():
    app = FastAPI()
    register_error_handlers(app)

    @app.get("/limited")
    def limited() -> None:
        raise Throttled("Too many attempts. Try again in 2 minutes.", retry_after=90)

    response = TestClient(app).get("/limited")
    assert response.status_code == 429 and response.headers["retry-after"] == "90"
    assert response.json() == {
        "error": "too_many_requests",
        "message": "Too many attempts. Try again in 2 minutes.",
    }


def test_the_dashboard_shows_an_unreadable_task_with_its_reason(settings, provisioned):
    from tests.integration.test_dashboard import make_client, sign_in

    task = a_task()
    item = to_item(task, ShardCounts())
    item["data"]["S"] = "{broken"
    provisioned.clients["dynamodb"].put_item(TableName=provisioned.resources.table_name, Item=item)
    dashboard = make_client(settings, provisioned)
    sign_in(dashboard)
    assert task.id in dashboard.get("/dashboard?limit=100").text
    page = dashboard.get(f"/dashboard/tasks/{task.id}")
    assert page.status_code == 200 and "could not be read in full" in page.text
