"""The JSON API's contract, through HTTP, against the store on the emulator."""

import dataclasses
import time

import pytest
from fastapi.testclient import TestClient

from app import task_registry
from app.main import create_app
from app.settings import Settings

KEY = {"x-api-key": "test-key"}


@pytest.fixture(scope="module")
def settings(provisioned) -> Settings:
    return Settings(table_name=provisioned.resources.table_name, api_keys="other-key, test-key")


@pytest.fixture(scope="module")
def client(settings, provisioned) -> TestClient:
    return TestClient(create_app(settings, store=provisioned.store))


def create(client, body=None, **kwargs):
    body = body or {"task_type": "TASK1", "data": {"foo": "bar"}, "ttl": str(int(time.time()) + 3600)}
    return client.post("/tasks", json=body, headers=KEY, **kwargs)


def assert_error(response, status: int, *fragments: str):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    message = response.json()["message"]
    for fragment in fragments:
        assert fragment in message, message


def test_health_needs_no_key(client):
    assert client.get("/health").json() == {"status": "ok", "ready": True, "problems": []}


def test_create_is_accepted_with_a_status_location(client):
    response = create(client)
    assert response.status_code == 202
    task_id = response.json()["id"]
    assert response.headers["location"] == f"http://testserver/tasks/{task_id}"
    task = client.get(f"/tasks/{task_id}", headers=KEY).json()
    assert task["status"] == "CREATED" and task["status_msg"] == "" and task["updated_time"] is None
    assert task["data"] == {"foo": "bar"} and task["task_type"] == "TASK1"
    assert isinstance(task["created_time"], int) and isinstance(task["ttl"], int)


def test_ttl_may_be_int_string_or_absent(client, settings):
    future = int(time.time()) + 3600
    for ttl, expected in ((future, future), (str(future), future)):
        task_id = create(client, {"task_type": "TASK2", "data": {}, "ttl": ttl}).json()["id"]
        assert client.get(f"/tasks/{task_id}", headers=KEY).json()["ttl"] == expected
    task_id = create(client, {"task_type": "TASK2", "data": {}}).json()["id"]
    ttl = client.get(f"/tasks/{task_id}", headers=KEY).json()["ttl"]
    assert abs(ttl - (time.time() + settings.default_ttl_seconds)) < 60


@pytest.mark.parametrize(
    ("body", "status", "fragments"),
    [
        (
            {"task_type": "NOPE", "data": {}},
            422,
            ["unknown task_type 'NOPE'", ", ".join(task_registry.names())],
        ),
        ({"task_type": "TASK1", "data": [1, 2]}, 422, ["body.data", "dictionary"]),
        ({"task_type": "TASK1", "data": "text"}, 422, ["body.data"]),
        ({"task_type": "TASK1"}, 422, ["body.data", "required"]),
        ({"task_type": "TASK1", "data": {}, "ttl": "tomorrow"}, 422, ["ttl must be epoch seconds"]),
        ({"task_type": "TASK1", "data": {}, "ttl": 12.5}, 422, ["ttl must be epoch seconds"]),
        ({"task_type": "TASK1", "data": {}, "ttl": 1000}, 422, ["ttl 1000 is in the past"]),
        ({"task_type": "TASK1", "data": {}, "colour": "red"}, 422, ["body.colour: unknown field"]),
        ({"task_type": "TASK1", "data": {"blob": "x" * 70_000}}, 413, ["limit is 65536 bytes"]),
    ],
)
def test_bad_create_input_is_a_clear_4xx(client, body, status, fragments):
    assert_error(create(client, body), status, *fragments)


def test_malformed_json_and_wrong_content_type(client):
    bad_json = client.post(
        "/tasks", content=b'{"task_type": ', headers={**KEY, "content-type": "application/json"}
    )
    assert_error(bad_json, 400, "not valid JSON")
    form = client.post("/tasks", content=b"task_type=TASK1", headers={**KEY, "content-type": "text/plain"})
    assert_error(form, 415, "application/json")
    patch = client.patch("/tasks/x", content=b"status=FAILED", headers=KEY)
    assert_error(patch, 415, "application/json")


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong"}, {"x-api-key": ""}])
def test_every_task_route_needs_a_valid_key(client, headers):
    for method, path in (("GET", "/tasks"), ("POST", "/tasks"), ("GET", "/tasks/x"), ("PATCH", "/tasks/x")):
        assert_error(client.request(method, path, headers=headers), 401, "x-api-key")
    # Refused before the body is read: no hint about validation leaks out.
    assert_error(client.post("/tasks", content=b"{", headers=headers), 401)


def test_unknown_task_is_404_json(client):
    assert_error(client.get("/tasks/does-not-exist", headers=KEY), 404, "does-not-exist")
    assert_error(client.patch("/tasks/nope", json={"status": "FAILED"}, headers=KEY), 404)


def test_patch_follows_the_state_machine(client):
    task_id = create(client).json()["id"]
    started = client.patch(f"/tasks/{task_id}", json={"status": "IN_PROGRESS"}, headers=KEY)
    assert started.status_code == 200 and started.json()["status"] == "IN_PROGRESS"
    done = client.patch(f"/tasks/{task_id}", json={"status": "COMPLETED", "status_msg": "ok"}, headers=KEY)
    assert done.json()["status_msg"] == "ok" and done.json()["updated_time"] is not None
    again = client.patch(f"/tasks/{task_id}", json={"status": "IN_PROGRESS"}, headers=KEY)
    assert_error(again, 409, "is COMPLETED")
    assert again.json()["current_status"] == "COMPLETED"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "DONE"},
        {"status": "FAILED", "extra": 1},
        {},
        {"status": "FAILED", "status_msg": "x" * 1001},
    ],
)
def test_bad_patch_input_is_422(client, body):
    task_id = create(client).json()["id"]
    assert_error(client.patch(f"/tasks/{task_id}", json=body, headers=KEY), 422, "Invalid request")


def test_list_filters_and_limits(client):
    task_id = create(client, {"task_type": "TASK2", "data": {}}).json()["id"]
    client.patch(f"/tasks/{task_id}", json={"status": "IN_PROGRESS"}, headers=KEY)
    listed = client.get("/tasks", params={"status": "IN_PROGRESS", "task_type": "TASK2"}, headers=KEY).json()
    assert task_id in [t["id"] for t in listed["tasks"]]
    assert all(t["status"] == "IN_PROGRESS" and t["task_type"] == "TASK2" for t in listed["tasks"])
    one = client.get("/tasks", params={"limit": 1}, headers=KEY).json()
    assert len(one["tasks"]) == 1 and one["next_token"]
    following = client.get("/tasks", params={"limit": 1, "next_token": one["next_token"]}, headers=KEY).json()
    assert following["tasks"][0]["id"] != one["tasks"][0]["id"]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 101}, "query.limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"status": "SLEEPING"}, "query.status"),
        ({"task_type": "TASK9"}, "unknown task_type"),
        ({"created_from": "yesterday"}, "query.created_from"),
    ],
)
def test_bad_list_parameters_are_422(client, params, fragment):
    assert_error(client.get("/tasks", params=params, headers=KEY), 422, fragment)


def test_bad_or_foreign_next_token_is_400(client):
    create(client)
    create(client)
    token = client.get("/tasks", params={"limit": 1}, headers=KEY).json()["next_token"]
    for bad in ("garbage", token[:-3] + "abc", token + "x"):
        assert_error(client.get("/tasks", params={"next_token": bad}, headers=KEY), 400, "next_token")
    foreign = client.get("/tasks", params={"next_token": token, "status": "FAILED"}, headers=KEY)
    assert_error(foreign, 400, "next_token")


def test_retry_creates_a_linked_task_only_from_failed(client):
    task_id = create(client).json()["id"]
    assert_error(client.post(f"/tasks/{task_id}/retry", headers=KEY), 409, "only FAILED")
    client.patch(f"/tasks/{task_id}", json={"status": "FAILED", "status_msg": "boom"}, headers=KEY)
    retried = client.post(f"/tasks/{task_id}/retry", headers=KEY)
    assert retried.status_code == 202
    new_id = retried.json()["id"]
    assert retried.headers["location"].endswith(f"/tasks/{new_id}")
    new = client.get(f"/tasks/{new_id}", headers=KEY).json()
    assert new["retry_of"] == task_id and new["status"] == "CREATED" and new["data"] == {"foo": "bar"}


def test_links_work_under_a_stage_prefix(settings, provisioned):
    prefixed = TestClient(
        create_app(dataclasses.replace(settings, root_path="/dev"), store=provisioned.store)
    )
    response = prefixed.post("/dev/tasks", json={"task_type": "TASK1", "data": {}}, headers=KEY)
    assert response.status_code == 202
    assert response.headers["location"] == f"http://testserver/dev/tasks/{response.json()['id']}"
    assert prefixed.get(response.headers["location"], headers=KEY).status_code == 200


def test_unknown_route_is_json_404(client):
    assert_error(client.get("/nowhere"), 404, "/nowhere")


def test_store_unreachable_is_503_json(settings):
    import boto3
    from botocore.config import Config

    from app.adapters.task_store import TaskStore

    nothing_listens = Config(retries={"max_attempts": 1}, connect_timeout=1)
    dead = boto3.client(
        "dynamodb", endpoint_url="http://127.0.0.1:9", region_name="eu-west-1", config=nothing_listens
    )

    broken = TestClient(create_app(settings, store=TaskStore("t", dead)))
    assert_error(broken.get("/tasks", headers=KEY), 503, "DynamoDB")


def test_every_declared_type_is_accepted_and_in_the_openapi_enum(client):
    for name, task_type in task_registry.task_types().items():
        response = create(client, {"task_type": name, "data": task_type.sample_data})
        assert response.status_code == 202, response.text
    document = client.get("/openapi.json", headers=KEY).json()
    schema = document["components"]["schemas"]["CreateTaskRequest"]["properties"]["task_type"]
    assert schema["enum"] == task_registry.names()
    examples = str(document["paths"]["/tasks"]["post"]["responses"]["422"])
    assert f"known types: {', '.join(task_registry.names())}" in examples


def test_a_deployed_api_refuses_a_local_only_type(client, monkeypatch):
    """What tells a deployed api from the local runtime is local mode, which only the local runtime sets."""
    from app.settings import get_settings

    local_only = [t.name for t in task_registry.read_folder(include_local_only=True).values() if t.local_only]
    assert local_only
    monkeypatch.setenv("LOCAL_MODE", "false")
    get_settings.cache_clear()
    try:
        for name in local_only:
            assert_error(create(client, {"task_type": name, "data": {}}), 422, f"unknown task_type '{name}'")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
