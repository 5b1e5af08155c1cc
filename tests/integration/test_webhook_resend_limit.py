"""A task's webhook is resent at most once a minute, however often or concurrently it is asked (issue 18)."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

from app.adapters.webhook_deliveries import WebhookDeliveries
from app.domain.errors import Throttled
from app.domain.task import TaskStatus
from app.domain.webhooks import RESEND_INTERVAL_SECONDS, WebhookMessage
from app.main import create_app
from tests.integration.conftest import HANDLER_API_KEY
from tests.integration.test_webhook_deadlines import stage
from tests.integration.test_webhooks import finished_task, queued

pytestmark = pytest.mark.integration
__all__ = ["stage"]
HEADERS = {"x-api-key": HANDLER_API_KEY}


def test_fifty_resends_in_a_row_queue_one(stage):
    client = TestClient(create_app())
    task = finished_task(stage, "https://hooks.example.com/in", TaskStatus.COMPLETED)
    answers = [client.post(f"/tasks/{task.id}/webhook/resend", headers=HEADERS) for _ in range(50)]
    assert [answer.status_code for answer in answers] == [202] + [429] * 49
    refused = answers[-1]
    assert refused.json()["error"] == "too_many_requests"
    assert 1 <= int(refused.headers["retry-after"]) <= RESEND_INTERVAL_SECONDS
    assert f"resent less than {RESEND_INTERVAL_SECONDS} s ago" in refused.json()["message"]
    (message,) = queued(stage)
    assert WebhookMessage.from_json(message["body"]) == WebhookMessage(task.id, 2)


def test_concurrent_resends_pass_one_at_a_time(stage):
    client = TestClient(create_app())
    task = finished_task(stage, "https://hooks.example.com/in", TaskStatus.FAILED)
    statuses: list[int] = []
    start = threading.Barrier(8)

    def resend() -> None:
        start.wait()
        statuses.append(client.post(f"/tasks/{task.id}/webhook/resend", headers=HEADERS).status_code)

    threads = [threading.Thread(target=resend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [202] + [429] * 7


def test_the_next_resend_passes_once_the_minute_is_over(stage):
    deliveries = WebhookDeliveries(stage.resources.table_name, stage.clients["dynamodb"])
    task_id = finished_task(stage, "https://hooks.example.com/in").id
    assert deliveries.next_send(task_id, 2_000_000_000, now=1_000, interval=60) == 2
    with pytest.raises(Throttled) as refused:
        deliveries.next_send(task_id, 2_000_000_000, now=1_045, interval=60)
    assert refused.value.retry_after == 15
    assert deliveries.next_send(task_id, 2_000_000_000, now=1_060, interval=60) == 3
