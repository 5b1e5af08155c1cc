"""A crashed attempt's task is between attempts, and runs again after its backoff, not after SQS's
visibility timeout.

Through a worker's Lambda handler with messages as Lambda delivers them (real receipt handles), on a
stage whose task queues keep a message hidden for two minutes after a receive.
"""

from __future__ import annotations

import time

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from app.domain.recovery import backoff_seconds
from app.domain.task import TaskStatus
from app.settings import get_settings
from tests.conftest import wait_until
from tests.factories import a_task
from tests.integration.conftest import provision_stage
from tests.integration.test_handlers import Context
from workers.consumer import queue_url_of

pytestmark = pytest.mark.integration

VISIBILITY_TIMEOUT = 120


@pytest.fixture
def stage(emulator_endpoint, monkeypatch):
    stage = provision_stage(emulator_endpoint, visibility_timeout=VISIBILITY_TIMEOUT)
    monkeypatch.setenv("TABLE_NAME", stage.resources.table_name)
    monkeypatch.setenv("RETRY_DELAYS", "1,60")
    get_settings.cache_clear()
    yield stage
    monkeypatch.undo()
    get_settings.cache_clear()


def send(stage, task) -> None:
    stage.clients["sqs"].send_message(
        QueueUrl=stage.queue_url("FlakyQueue"),
        MessageBody=f'{{"task_id": "{task.id}", "task_type": "{task.task_type}"}}',
    )


def test_the_backoff_grows_and_its_last_step_repeats():
    assert [backoff_seconds(attempt) for attempt in (1, 2, 3, 4, 5)] == [5, 30, 120, 120, 120]
    assert [backoff_seconds(attempt, (1, 60)) for attempt in (1, 2, 3)] == [1, 60, 60]


def test_a_crashed_attempt_waits_its_backoff_shown_on_the_task_then_runs_again(stage):
    from workers.tasks.flaky import handler

    task = a_task("FLAKY", {"crash_attempts": 1})
    stage.store.add(task)
    send(stage, task)
    (record,) = wait_until(lambda: stage.receive("FlakyQueue"), what="the task's message")
    before = time.time()
    with pytest.raises(BatchProcessingError):  # a batch whose every record failed: Lambda retries it whole
        handler({"Records": [record]}, Context())

    # Between attempts: not running (no lease), and the API says when the next one is due.
    waiting = stage.store.get(task.id)
    assert (
        waiting.status is TaskStatus.IN_PROGRESS
        and waiting.lease_expires == 0
        and waiting.is_between_attempts
    )
    assert int(before) + 1 <= waiting.retry_at <= int(time.time()) + 1
    public = waiting.to_public()
    assert (public["attempt"], public["retry_at"]) == (1, waiting.retry_at)

    # The message is back after the first backoff (1 s), not the queue's 120 s.
    (again,) = wait_until(
        lambda: stage.receive("FlakyQueue"), timeout=15, what="the message after its backoff"
    )
    assert time.time() - before < VISIBILITY_TIMEOUT / 4
    assert handler({"Records": [again]}, Context()) == {"batchItemFailures": []}
    done = stage.store.get(task.id)
    assert (done.status, done.attempt, done.retry_at) == (TaskStatus.COMPLETED, 2, None)
    assert done.to_public()["retry_at"] is None


def test_a_delivery_of_a_busy_task_comes_back_when_its_lease_ends(stage):
    from workers.tasks.flaky import handler

    task = a_task("FLAKY", {"crash_attempts": 0})
    stage.store.add(task)
    lease_end = int(time.time()) + 2
    stage.store.replace_if(
        task.moved_to(
            TaskStatus.IN_PROGRESS, "attempt 1 started", time.time(), attempt=1, lease_expires=lease_end
        ),
        expected=task,
    )
    send(stage, task)
    (record,) = wait_until(lambda: stage.receive("FlakyQueue"), what="the task's message")
    with pytest.raises(BatchProcessingError):
        handler({"Records": [record]}, Context())
    (again,) = wait_until(
        lambda: stage.receive("FlakyQueue"), timeout=15, what="the message at the lease's end"
    )
    assert time.time() >= lease_end and time.time() < lease_end + VISIBILITY_TIMEOUT / 4
    assert again["messageId"] == record["messageId"]


def test_a_queue_url_is_made_from_its_arn():
    assert queue_url_of("arn:aws:sqs:eu-west-1:123456789012:async-app-dev-task1") == (
        "https://sqs.eu-west-1.amazonaws.com/123456789012/async-app-dev-task1"
    )
