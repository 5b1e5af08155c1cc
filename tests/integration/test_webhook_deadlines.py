"""A webhook attempt ends by its deadline whatever the receiver does, and is on the timeline (issue 18)."""

from __future__ import annotations

import ipaddress
import time

import pytest

from app.domain.task import TaskStatus
from app.domain.webhooks import WebhookMessage
from tests.integration.test_webhooks import SECRET, deliver, finished_task, queued
from tests.slow_receiver import slow_receiver

pytestmark = pytest.mark.integration


@pytest.fixture
def stage(deployed, monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("WEBHOOK_QUEUE_URL", deployed.queue_url("WebhookQueue"))
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("WEBHOOK_RETRY_DELAYS", "30,60")
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "1")
    get_settings.cache_clear()
    yield deployed
    get_settings.cache_clear()


def test_a_receiver_sending_a_byte_at_a_time_cannot_hold_the_post_past_its_deadline():
    from app.adapters import webhook_sender
    from app.domain.callbacks import CallbackTarget

    with slow_receiver(interval=0.1) as receiver:
        target = CallbackTarget(receiver.url, "http", "127.0.0.1", receiver.port, "/hooks/slow")
        started = time.monotonic()
        outcome = webhook_sender.post(target, ipaddress.ip_address("127.0.0.1"), {}, b"{}", 1.0)
        took = time.monotonic() - started
    # Each byte came well within a per-read timeout of 1 s: only a total deadline ends it.
    assert receiver.dripped >= 5
    assert took < 1.5, took
    assert (outcome.delivered, outcome.http_status, outcome.detail) == (False, None, "no answer within 1 s")


def _sent(stage, task_id: str) -> dict:
    stage.clients["sqs"].send_message(
        QueueUrl=stage.queue_url("WebhookQueue"), MessageBody=WebhookMessage(task_id).to_json()
    )
    (record,) = queued(stage)
    return record


def test_a_slow_receiver_costs_one_timed_out_attempt_on_the_timeline_then_the_backoff(stage):
    with slow_receiver(interval=0.1) as receiver:
        task = finished_task(stage, receiver.url, TaskStatus.COMPLETED)
        started = time.monotonic()
        response = deliver([_sent(stage, task.id)])
        took = time.monotonic() - started
    assert response["batchItemFailures"] and took < 4, took
    (event,) = [e for e in stage.store.events(task.id) if e.hop.value == "webhook"]
    assert event.attempt == 1 and event.http_status is None
    assert event.message == "send 1, attempt 1 of 8: failed (no answer within 1 s)"
    # Waiting out its backoff (30 s here), not back at once.
    assert queued(stage, wait=1) == []


class ShortOnTime:
    function_name = "webhooks"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:webhooks"
    aws_request_id = "req-short"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 2_500  # less than the 1 s attempt and its bookkeeping


def test_a_message_is_not_taken_when_the_invocation_has_too_little_time_left(stage):
    from workers.webhooks import handler

    with slow_receiver(interval=0.1) as receiver:
        task = finished_task(stage, receiver.url, TaskStatus.COMPLETED)
        record = _sent(stage, task.id)
        response = handler({"Records": [record]}, ShortOnTime())
        assert response == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
        assert receiver.connections == 0
    assert [e for e in stage.store.events(task.id) if e.hop.value == "webhook"] == []
    # Back on the queue at once, for an invocation with the time.
    (again,) = queued(stage, wait=1)
    assert again["messageId"] == record["messageId"]
