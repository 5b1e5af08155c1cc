"""Webhooks against the emulator and a receiver on loopback: queued once, signed, retried, resent."""

import ipaddress
import json
import time

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from app.domain import webhooks
from app.domain.task import TaskStatus, new_task
from app.domain.webhooks import WebhookMessage
from app.local.filter_patterns import matches_any
from app.local.lambda_events import sqs_record
from app.main import create_app
from app.services import tasks
from tests.factories import FAR_FUTURE
from tests.integration.conftest import HANDLER_API_KEY
from tests.integration.test_handlers import Context
from tests.webhook_receiver import webhook_receiver

SECRET = webhooks.new_secret(bytes(range(100, 132)))


@pytest.fixture
def stage(deployed, monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("WEBHOOK_QUEUE_URL", deployed.queue_url("WebhookQueue"))
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("WEBHOOK_RETRY_DELAYS", "1,2")
    get_settings.cache_clear()
    return deployed


@pytest.fixture
def receiver():
    with webhook_receiver() as receiver:
        yield receiver


def finished_task(stage, url: str, status: TaskStatus = TaskStatus.COMPLETED):
    task = new_task("TASK2", {"text": "a b"}, FAR_FUTURE, time.time(), callback_url=url)
    stage.store.add(task)
    running = task.moved_to(TaskStatus.IN_PROGRESS, "", time.time(), attempt=1)
    stage.store.replace_if(running, expected=task)
    if status is TaskStatus.CANCELLED:
        return tasks.cancel_task(stage.store, task.id, "api key 0000aaaa") and tasks.change_status(
            stage.store, task.id, TaskStatus.CANCELLED, ""
        )
    done = running.moved_to(status, "counted 2 words", time.time(), result={"words": 2})
    stage.store.replace_if(done, expected=running)
    return stage.store.get(task.id)


def ending_records(stage):
    """The stream records of ended tasks the publisher's filter lets through (it queues their webhooks)."""
    function = next(f for f in stage.topology.stream_functions if f.name == "publisher")
    records = [r for r in stage.stream_records() if matches_any(function.filter_patterns, r)]
    return [
        r for r in records if r["dynamodb"]["NewImage"]["status"]["S"] in ("COMPLETED", "FAILED", "CANCELLED")
    ]


def queued(stage, wait: int = 1) -> list[dict]:
    response = stage.clients["sqs"].receive_message(
        QueueUrl=stage.queue_url("WebhookQueue"),
        MaxNumberOfMessages=10,
        WaitTimeSeconds=wait,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    arn = stage.resources.queue_arns["WebhookQueue"]
    return [sqs_record(message, arn, stage.topology.region) for message in response.get("Messages", [])]


def deliver(records):
    from workers.webhooks import handler

    return handler({"Records": records}, Context())


def test_an_ending_task_queues_its_webhook_once_however_often_the_record_comes(stage, receiver):
    from workers.publisher import handler

    task = finished_task(stage, receiver.url)
    quiet = new_task("TASK2", {}, FAR_FUTURE, time.time())  # no callback: its end is not even delivered
    stage.store.add(quiet)
    records = ending_records(stage)
    assert [r["dynamodb"]["NewImage"]["id"]["S"] for r in records] == [task.id]
    assert handler({"Records": records}, Context()) == {"batchItemFailures": []}
    assert handler({"Records": records}, Context()) == {"batchItemFailures": []}
    (message,) = queued(stage)
    assert WebhookMessage.from_json(message["body"]) == WebhookMessage(task.id, 1)


def test_a_delivery_is_signed_carries_the_task_and_is_on_its_timeline(stage, receiver):
    task = finished_task(stage, receiver.url)
    deliver([_record(stage, WebhookMessage(task.id))])
    (got,) = receiver.received
    assert got.path == "/hooks/async-app" and got.headers["content-type"] == "application/json"
    payload = Webhook(SECRET).verify(got.body, got.headers)
    shown = TestClient(create_app()).get(f"/tasks/{task.id}", headers={"x-api-key": HANDLER_API_KEY}).json()
    assert payload == shown and payload["result"] == {"words": 2} and payload["status"] == "COMPLETED"
    assert got.headers["webhook-id"] == f"msg_{task.id}"
    (event,) = [e for e in stage.store.events(task.id) if e.hop.value == "webhook"]
    assert (event.http_status, event.attempt, event.source) == (200, 1, "webhooks")
    assert event.message == "send 1, attempt 1 of 8: delivered (HTTP 200)"


def test_a_failed_attempt_comes_back_after_its_backoff_and_the_last_one_gives_up(stage, receiver):
    task = finished_task(stage, receiver.url, TaskStatus.FAILED)
    sent = stage.clients["sqs"].send_message(
        QueueUrl=stage.queue_url("WebhookQueue"), MessageBody=WebhookMessage(task.id).to_json()
    )
    receiver.answers = [503, 500]
    (first,) = queued(stage)
    response = deliver([first])
    assert response == {"batchItemFailures": [{"itemIdentifier": sent["MessageId"]}]}
    # Invisible for its backoff (1 s here), then delivered again: attempt 2.
    assert queued(stage, wait=0) == []
    (second,) = queued(stage, wait=5)
    assert second["attributes"]["ApproximateReceiveCount"] == "2"
    assert deliver([second])["batchItemFailures"]
    (third,) = queued(stage, wait=5)
    assert deliver([third]) == {"batchItemFailures": []}
    events = [e for e in stage.store.events(task.id) if e.hop.value == "webhook"]
    assert [(e.attempt, e.http_status) for e in events] == [(1, 503), (2, 500), (3, 200)]
    assert len(receiver.received) == 3
    # The task itself never moved.
    assert stage.store.get(task.id).status is TaskStatus.FAILED

    last = _record(stage, WebhookMessage(task.id), receive_count=webhooks.MAX_ATTEMPTS)
    receiver.answers = [500]
    assert deliver([last])["batchItemFailures"]
    final = [e for e in stage.store.events(task.id) if e.hop.value == "webhook"][-1]
    assert final.message.endswith("gave up: the message goes to the webhook dead-letter queue")


def test_a_host_that_now_resolves_to_a_private_address_is_not_called(stage, receiver, monkeypatch):
    """DNS rebinding: checked at create, the name is resolved and checked again before each send."""
    task = finished_task(stage, f"https://hooks.test:{receiver.port}/hooks")
    monkeypatch.setattr("app.adapters.dns.resolve", lambda host, port: [ipaddress.ip_address("10.0.0.8")])
    assert deliver([_record(stage, WebhookMessage(task.id))])["batchItemFailures"]
    assert receiver.received == []
    (event,) = [e for e in stage.store.events(task.id) if e.hop.value == "webhook"]
    assert event.http_status is None and "refused" in event.message and "10.0.0.8" in event.message


def test_the_post_goes_to_the_address_checked_with_the_host_name_kept(receiver):
    from app.adapters import webhook_sender
    from app.domain.callbacks import CallbackTarget

    target = CallbackTarget("http://hooks.test/in", "http", "hooks.test", receiver.port, "/in?x=1")
    outcome = webhook_sender.post(target, ipaddress.ip_address("127.0.0.1"), {"webhook-id": "m"}, b"{}", 5)
    assert (outcome.delivered, outcome.http_status, outcome.detail) == (True, 200, "HTTP 200")
    (got,) = receiver.received
    assert (got.path, got.headers["host"], got.headers["webhook-id"]) == (
        "/in?x=1",
        f"hooks.test:{receiver.port}",
        "m",
    )
    assert got.headers["user-agent"] == webhook_sender.USER_AGENT


def test_no_answer_is_a_failed_attempt_not_a_crash():
    from app.adapters import webhook_sender
    from app.domain.callbacks import CallbackTarget

    nobody = CallbackTarget("http://127.0.0.1:9/", "http", "127.0.0.1", 9, "/")
    outcome = webhook_sender.post(nobody, ipaddress.ip_address("127.0.0.1"), {}, b"{}", 2)
    assert not outcome.delivered and outcome.http_status is None and outcome.detail.startswith("no answer")


def test_resend_queues_the_webhook_again_and_refuses_what_has_no_webhook(stage, receiver):
    client = TestClient(create_app())
    headers = {"x-api-key": HANDLER_API_KEY}
    task = finished_task(stage, receiver.url)
    answer = client.post(f"/tasks/{task.id}/webhook/resend", headers=headers)
    assert answer.status_code == 202 and answer.json() == {"id": task.id, "send": 2}
    assert answer.headers["retry-after"] == "1" and answer.headers["location"].endswith(f"/tasks/{task.id}")
    (message,) = queued(stage)
    assert WebhookMessage.from_json(message["body"]) == WebhookMessage(task.id, 2)
    assert deliver([message]) == {"batchItemFailures": []}
    assert Webhook(SECRET).verify(receiver.received[0].body, receiver.received[0].headers)["id"] == task.id

    running = new_task("TASK2", {}, FAR_FUTURE, time.time(), callback_url=receiver.url)
    stage.store.add(running)
    refused = client.post(f"/tasks/{running.id}/webhook/resend", headers=headers)
    assert (refused.status_code, refused.json()["error"]) == (409, "no_webhook")
    assert "has not ended" in refused.json()["message"] and refused.json()["current_status"] == "CREATED"
    silent = new_task("TASK2", {}, FAR_FUTURE, time.time())
    stage.store.add(silent)
    assert (
        "no callback_url"
        in client.post(f"/tasks/{silent.id}/webhook/resend", headers=headers).json()["message"]
    )


def test_a_webhook_of_a_task_gone_or_a_malformed_message_is_dropped(stage):
    import uuid

    assert deliver([_record(stage, WebhookMessage(str(uuid.uuid4())))]) == {"batchItemFailures": []}
    broken = _record(stage, WebhookMessage("x"))
    broken["body"] = "not json"
    assert deliver([broken]) == {"batchItemFailures": []}


def _record(stage, message: WebhookMessage, receive_count: int = 1) -> dict:
    """A webhook message as Lambda delivers it (one sent to the queue, received ``receive_count`` times)."""
    stage.clients["sqs"].send_message(QueueUrl=stage.queue_url("WebhookQueue"), MessageBody=message.to_json())
    (record,) = queued(stage)
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return record


def test_the_payload_is_compact_json_of_the_public_task(stage, receiver):
    task = finished_task(stage, receiver.url, TaskStatus.CANCELLED)
    deliver([_record(stage, WebhookMessage(task.id))])
    body = receiver.received[0].body
    assert json.loads(body)["status"] == "CANCELLED" and b": " not in body
