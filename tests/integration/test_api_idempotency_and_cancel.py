"""Idempotency-Key, cancel, run_at, callback_url and Retry-After, through HTTP against the emulator."""

import dataclasses
import ipaddress
import itertools
import threading
import time
import uuid

import pytest
from botocore.stub import Stubber
from fastapi.testclient import TestClient

from app.adapters import idempotency_records
from app.adapters.task_store import TaskStore
from app.domain.task import TaskStatus
from app.main import create_app
from app.settings import Settings
from workers.consumer import TaskOutcome, process_message

KEY = {"x-api-key": "test-key"}
OTHER_KEY = {"x-api-key": "other-key"}
PUBLIC = ipaddress.ip_address("93.184.215.14")
RESOLVED = {"hooks.example.com": [PUBLIC], "inside.example.com": [ipaddress.ip_address("10.0.0.7")]}


@pytest.fixture(scope="module")
def settings(provisioned) -> Settings:
    return Settings(table_name=provisioned.resources.table_name, api_keys="other-key, test-key")


@pytest.fixture(scope="module")
def client(settings, provisioned) -> TestClient:
    app = create_app(settings, store=provisioned.store)
    app.state.resolve = lambda host, port: RESOLVED.get(host, [])
    return TestClient(app)


def body(**fields):
    return {"task_type": "TASK1", "data": {"n": uuid.uuid4().hex}, **fields}


def post(client, json, key=None, headers=KEY):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post("/tasks", json=json, headers={**headers, **extra})


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()


# --- Idempotency-Key ---------------------------------------------------------------------------


def test_the_same_key_and_body_get_the_first_answer_and_one_task(client, provisioned):
    sent = body()
    first = post(client, sent, key="order-1-" + uuid.uuid4().hex)
    again = post(client, sent, key=first.request.headers["Idempotency-Key"])
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json() and first.headers["location"] == again.headers["location"]
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert first.headers["retry-after"] == again.headers["retry-after"] == "1"
    mine = [t for t in provisioned.store.list(_recent()).tasks if t.data == sent["data"]]
    assert [t.id for t in mine] == [first.json()["id"]]


def test_the_same_key_with_another_body_is_refused_and_creates_nothing(client, provisioned):
    key = uuid.uuid4().hex
    sent = body()
    assert post(client, sent, key=key).status_code == 202
    changed = {**sent, "data": {"n": "something else"}}
    refused = error_of(post(client, changed, key=key), 422)
    assert refused["error"] == "idempotency_key_reused"
    assert not [t for t in provisioned.store.list(_recent()).tasks if t.data == changed["data"]]


def test_keys_belong_to_the_api_key_that_sent_them(client):
    key = uuid.uuid4().hex
    sent = body()
    mine = post(client, sent, key=key).json()["id"]
    theirs = post(client, sent, key=key, headers=OTHER_KEY).json()["id"]
    assert mine != theirs


def test_the_record_stores_hashes_only_and_expires_with_ttl(client, provisioned, settings):
    key = "secret-order-" + uuid.uuid4().hex
    post(client, body(), key=key)
    table = provisioned.clients["dynamodb"].scan(TableName=settings.table_name)["Items"]
    records = [item for item in table if item["pk"]["S"].startswith(idempotency_records.PREFIX)]
    assert records and all("ttl" in item for item in records)
    dumped = repr(records)
    assert key not in dumped and "test-key" not in dumped
    # No listing index attribute: records never show up in a listing.
    assert not {"list_pk", "list_sk", "status", "task_type", "type_status", "due_pk"} & set(records[0])
    assert all(abs(int(item["ttl"]["N"]) - (time.time() + 24 * 3600)) < 120 for item in records)


def test_an_expired_record_no_longer_counts(client, provisioned):
    key = uuid.uuid4().hex
    sent = body()
    first = post(client, sent, key=key).json()["id"]
    later = create_app(
        Settings(table_name=provisioned.resources.table_name, api_keys="test-key"),
        store=provisioned.store,
        clock=lambda: time.time() + 25 * 3600,
    )
    second = TestClient(later).post("/tasks", json=sent, headers={**KEY, "Idempotency-Key": key})
    assert second.status_code == 202 and second.json()["id"] != first


def test_concurrent_requests_with_one_key_make_one_task(client, provisioned):
    key, sent = uuid.uuid4().hex, body()
    answers: list[tuple[int, str]] = []
    start = threading.Barrier(6)

    def send() -> None:
        start.wait()
        response = post(client, sent, key=key)
        answers.append((response.status_code, response.json().get("id", response.json().get("error"))))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    ids = {answer for status, answer in answers if status == 202}
    # In DynamoDB a request that meets another's transaction may get 409 (in flight); never a second task.
    assert len(ids) == 1 and all(status in (202, 409) for status, _ in answers)
    assert [t.id for t in provisioned.store.list(_recent()).tasks if t.data == sent["data"]] == list(ids)


def test_a_request_in_flight_with_the_same_key_is_a_409_with_retry_after(client, provisioned, settings):
    """DynamoDB cancels a transaction that meets another on the same item (TransactionConflict)."""
    store = TaskStore(settings.table_name, provisioned.clients["dynamodb"])
    app = create_app(settings, store=store)
    conflict = {
        "Code": "TransactionCanceledException",
        "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons",
    }
    with Stubber(store.dynamodb) as stub:
        stub.add_response("get_item", {})
        stub.add_client_error(
            "transact_write_items",
            service_error_code=conflict["Code"],
            service_message=conflict["Message"],
            response_meta={},
            modeled_fields={"CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}]},
        )
        response = TestClient(app).post("/tasks", json=body(), headers={**KEY, "Idempotency-Key": "k1"})
    assert error_of(response, 409)["error"] == "idempotency_key_in_flight"
    assert response.headers["retry-after"] == "1"


def test_retry_with_a_key_replays_and_refuses_another_task_with_the_same_key(client):
    first, second = (_failed(client) for _ in range(2))
    key = uuid.uuid4().hex
    retried = client.post(f"/tasks/{first}/retry", headers={**KEY, "Idempotency-Key": key})
    again = client.post(f"/tasks/{first}/retry", headers={**KEY, "Idempotency-Key": key})
    assert retried.status_code == again.status_code == 202 and retried.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert (
        error_of(client.post(f"/tasks/{second}/retry", headers={**KEY, "Idempotency-Key": key}), 422)["error"]
        == "idempotency_key_reused"
    )
    # A retry answered from an earlier retry (no key then) is kept under the key too.
    plain = client.post(f"/tasks/{second}/retry", headers=KEY).json()
    keyed = client.post(f"/tasks/{second}/retry", headers={**KEY, "Idempotency-Key": key + "-b"})
    assert keyed.json() == plain
    assert error_of(client.post(f"/tasks/{first}/retry", headers={**KEY, "Idempotency-Key": key + "-b"}), 422)


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_a_malformed_key_is_422(client, key):
    assert error_of(post(client, body(), key=None, headers={**KEY, "Idempotency-Key": key}), 422)


# --- cancel ------------------------------------------------------------------------------------


def test_cancel_of_a_created_task_ends_it_at_once_and_no_worker_runs_it(client, provisioned):
    task_id = post(client, body()).json()["id"]
    response = client.post(f"/tasks/{task_id}/cancel", headers=KEY)
    assert response.status_code == 202 and response.headers["retry-after"] == "1"
    assert response.headers["location"].endswith(f"/tasks/{task_id}")
    cancelled = response.json()
    assert cancelled["status"] == "CANCELLED" and cancelled["status_msg"].startswith("cancelled by api key ")
    ran = []
    outcome = process_message(
        provisioned.store,
        _message(task_id),
        lambda run: ran.append(run) or TaskOutcome("ran"),
        lease_seconds=30,
    )
    assert outcome == "duplicate" and ran == []
    (event,) = [e for e in provisioned.store.events(task_id) if e.hop.value == "cancelled"]
    assert event.source == "api" and "api key" in event.message


def test_cancel_of_a_running_task_is_a_request_its_worker_acts_on(client, provisioned):
    task_id = post(client, body()).json()["id"]
    seen = {}

    def run(task):
        asked = client.post(f"/tasks/{task_id}/cancel", headers=KEY)
        seen["answer"] = asked
        task.report_progress(50, "half way")  # ends the run: the cancel was asked for
        raise AssertionError("not reached")

    # Each reading of the clock a second later: progress is written at most once a second.
    clock = itertools.count(time.time()).__next__
    assert (
        process_message(provisioned.store, _message(task_id), run, lease_seconds=30, clock=clock)
        == "cancelled"
    )
    answer = seen["answer"]
    assert answer.status_code == 202 and answer.json()["status"] == "IN_PROGRESS"
    assert answer.json()["cancel_requested"].startswith("api key ")
    final = client.get(f"/tasks/{task_id}", headers=KEY).json()
    assert (final["status"], final["result"]) == ("CANCELLED", None)
    hops = [e.hop.value for e in provisioned.store.events(task_id)]
    assert hops.index("cancel_requested") < hops.index("cancelled")
    assert "progress" not in hops


def test_cancel_of_a_finished_task_is_409(client):
    task_id = post(client, body()).json()["id"]
    client.patch(f"/tasks/{task_id}", json={"status": "FAILED", "status_msg": "x"}, headers=KEY)
    refused = error_of(client.post(f"/tasks/{task_id}/cancel", headers=KEY), 409)
    assert refused["current_status"] == "FAILED"
    again = client.post(f"/tasks/{post(client, body()).json()['id']}/cancel", headers=KEY).json()
    assert (
        error_of(client.post(f"/tasks/{again['id']}/cancel", headers=KEY), 409)["current_status"]
        == "CANCELLED"
    )


def test_cancel_of_an_unknown_task_is_404(client):
    assert error_of(client.post(f"/tasks/{uuid.uuid4()}/cancel", headers=KEY), 404)


def test_patch_to_cancelled_records_who_asked(client, provisioned):
    task_id = post(client, body()).json()["id"]
    moved = client.patch(f"/tasks/{task_id}", json={"status": "CANCELLED"}, headers=KEY)
    assert moved.status_code == 200 and moved.json()["status"] == "CANCELLED"
    (event,) = [e for e in provisioned.store.events(task_id) if e.hop.value == "cancelled"]
    assert event.status == "CANCELLED" and event.message.startswith("cancelled by api key ")


# --- run_at ------------------------------------------------------------------------------------


def test_a_task_with_run_at_waits_scheduled_is_listed_and_can_be_cancelled(client, provisioned):
    run_at = int(time.time()) + 3600
    response = post(client, body(run_at=run_at))
    assert response.status_code == 202
    task = client.get(response.headers["location"], headers=KEY).json()
    assert (task["status"], task["run_at"]) == ("SCHEDULED", run_at)
    # Its default ttl counts from run_at.
    assert task["ttl"] >= run_at + 6 * 24 * 3600
    listed = client.get("/tasks", params={"status": "SCHEDULED", "limit": 100}, headers=KEY).json()
    assert task["id"] in [t["id"] for t in listed["tasks"]]
    assert task["id"] in [d.task_id for d in provisioned.store.due(run_at)]
    assert client.post(f"/tasks/{task['id']}/cancel", headers=KEY).json()["status"] == "CANCELLED"
    # Cancelling took it out of the due index, in the same write.
    assert task["id"] not in [d.task_id for d in provisioned.store.due(run_at)]
    (created,) = [e for e in provisioned.store.events(task["id"]) if e.hop.value == "created"]
    assert created.status == "SCHEDULED" and "scheduled for" in created.message


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"run_at": 1000}, "is in the past"),
        ({"run_at": "soon"}, "run_at must be epoch seconds"),
        ({"run_at": int(time.time()) + 400 * 86400}, "more than 365 days ahead"),
        ({"run_at": int(time.time()) + 7200, "ttl": int(time.time()) + 3600}, "expire before it runs"),
    ],
)
def test_a_bad_run_at_is_422(client, fields, fragment):
    assert fragment in error_of(post(client, body(**fields)), 422)["message"]


# --- callback_url ------------------------------------------------------------------------------


def test_a_public_https_callback_is_kept_on_the_task(client):
    url = "https://hooks.example.com/async-app?x=1"
    task_id = post(client, body(callback_url=url)).json()["id"]
    assert client.get(f"/tasks/{task_id}", headers=KEY).json()["callback_url"] == url


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("https://inside.example.com/hook", "resolves to 10.0.0.7"),
        ("https://nowhere.example.com/hook", "does not resolve"),
        ("https://169.254.169.254/latest/meta-data/", "public addresses only"),
        ("http://127.0.0.1:9/hook", "must be https"),
        ("not-a-url", "must be https"),
    ],
)
def test_a_callback_the_service_wont_call_is_422_in_a_deployed_stage(settings, provisioned, url, fragment):
    deployed = create_app(
        dataclasses.replace(settings, stage="dev", local_mode=False), store=provisioned.store
    )
    deployed.state.resolve = lambda host, port: RESOLVED.get(host, [])
    with pytest.MonkeyPatch.context() as patch:
        # The deployed stage reads its API keys from the settings all the same here.
        patch.setattr("app.adapters.secrets.api_keys", lambda settings: frozenset({"test-key"}))
        response = TestClient(deployed).post("/tasks", json=body(callback_url=url), headers=KEY)
    assert fragment in error_of(response, 422)["message"]


def test_loopback_callbacks_are_for_stage_local_only(client):
    assert post(client, body(callback_url="http://127.0.0.1:9/hook")).status_code == 202
    assert (
        "http only to loopback"
        in error_of(post(client, body(callback_url="http://hooks.example.com/")), 422)["message"]
    )


# --- Retry-After -------------------------------------------------------------------------------


def test_a_503_says_when_to_try_again(settings):
    import boto3
    from botocore.config import Config

    nothing_listens = Config(retries={"max_attempts": 1}, connect_timeout=1)
    dead = boto3.client(
        "dynamodb", endpoint_url="http://127.0.0.1:9", region_name="eu-west-1", config=nothing_listens
    )
    response = TestClient(create_app(settings, store=TaskStore("t", dead))).get("/tasks", headers=KEY)
    assert response.status_code == 503 and response.headers["retry-after"] == "5"


def test_a_stage_without_keys_is_503_with_retry_after(settings):
    response = TestClient(
        create_app(dataclasses.replace(settings, stage="dev", local_mode=False, api_keys="local-dev-key"))
    ).get("/tasks", headers={"x-api-key": "local-dev-key"})
    assert response.status_code == 503 and int(response.headers["retry-after"]) > 0


# --- helpers -----------------------------------------------------------------------------------


def _recent():
    from app.domain.listing import TaskQuery

    return TaskQuery(created_from=int(time.time()) - 120, limit=100)


def _message(task_id: str):
    from app.domain.messages import TaskMessage

    return TaskMessage(task_id, "TASK1")


def _failed(client) -> str:
    task_id = post(client, body()).json()["id"]
    client.patch(
        f"/tasks/{task_id}", json={"status": TaskStatus.FAILED.value, "status_msg": "x"}, headers=KEY
    )
    return task_id
