"""What happens to a task nothing is moving: the pure rules."""

import dataclasses

import pytest

from app.domain.recovery import (
    DEFAULT_RETENTION_SECONDS,
    MAX_ATTEMPTS,
    MAX_REDISPATCHES,
    MAX_WAIT_SECONDS,
    QueueState,
    Recovery,
    decide_recovery,
    is_lost,
    is_stale,
)
from app.domain.task import TaskStatus
from tests.factories import a_task

NOW = 1_800_000_000


def task_in(status: TaskStatus, **changes):
    return dataclasses.replace(a_task(now=NOW - 3600), status=status, **changes)


@pytest.mark.parametrize("status", [TaskStatus.COMPLETED, TaskStatus.FAILED])
def test_a_finished_task_is_left_alone(status):
    assert decide_recovery(task_in(status), NOW).action is Recovery.LEAVE


def test_a_task_whose_attempt_holds_a_live_lease_is_left_to_it():
    held = task_in(TaskStatus.IN_PROGRESS, attempt=2, lease_expires=NOW + 10)
    decision = decide_recovery(held, NOW)
    assert decision.action is Recovery.LEAVE
    assert "attempt 2 holds it" in decision.reason


def test_a_task_that_had_all_its_attempts_fails_saying_so():
    spent = task_in(TaskStatus.IN_PROGRESS, attempt=MAX_ATTEMPTS, status_msg="attempt 5 crashed: boom")
    decision = decide_recovery(spent, NOW)
    assert decision.action is Recovery.FAIL
    assert decision.reason == f"gave up after {MAX_ATTEMPTS} attempt(s); last: attempt 5 crashed: boom"


def test_a_task_with_attempts_left_is_sent_again():
    stopped = task_in(TaskStatus.IN_PROGRESS, attempt=1, lease_expires=NOW - 1)
    assert decide_recovery(stopped, NOW).action is Recovery.REDISPATCH
    assert decide_recovery(task_in(TaskStatus.CREATED), NOW).reason == "no worker picked it up"


def test_sends_are_limited_only_where_a_limit_is_given():
    resent = task_in(TaskStatus.CREATED, redispatches=MAX_REDISPATCHES)
    assert decide_recovery(resent, NOW).action is Recovery.REDISPATCH
    decision = decide_recovery(resent, NOW, max_redispatches=MAX_REDISPATCHES)
    assert decision.action is Recovery.FAIL
    assert "no worker could start it" in decision.reason


def test_a_created_task_is_stale_once_it_stood_still_long_enough():
    created = dataclasses.replace(a_task(now=NOW - 100), status=TaskStatus.CREATED)
    assert not is_stale(created, NOW, stale_after_seconds=101)
    assert is_stale(created, NOW, stale_after_seconds=100)


def test_an_in_progress_task_is_stale_only_without_a_lease_and_without_recent_writes():
    base = task_in(TaskStatus.IN_PROGRESS, attempt=1, updated_time=NOW - 200)
    assert not is_stale(dataclasses.replace(base, lease_expires=NOW + 5), NOW, 60)
    assert is_stale(dataclasses.replace(base, lease_expires=NOW - 5), NOW, 60)
    assert not is_stale(dataclasses.replace(base, lease_expires=0, updated_time=NOW - 30), NOW, 60)


def test_a_task_between_attempts_is_not_lost_before_its_backoff_ends():
    """Its message is hidden until retry_at: sending another would make two messages for one task."""
    crashed = task_in(TaskStatus.IN_PROGRESS, attempt=2, updated_time=NOW - 200, retry_at=NOW + 60)
    assert crashed.is_between_attempts
    assert not is_stale(crashed, NOW, 60)  # written 200 s ago, but due only in a minute
    assert not is_stale(crashed, NOW + 60 + 59, 60)
    assert is_stale(crashed, NOW + 60 + 60, 60)  # due a whole threshold ago, and not started


def test_each_send_doubles_the_wait_before_the_next_up_to_a_day():
    sent_twice = task_in(TaskStatus.CREATED, redispatches=2, updated_time=NOW - 239)
    assert not is_stale(sent_twice, NOW, 60)  # 60 s x 2^2
    assert is_stale(dataclasses.replace(sent_twice, updated_time=NOW - 240), NOW, 60)
    many = task_in(TaskStatus.CREATED, redispatches=40, updated_time=NOW - MAX_WAIT_SECONDS)
    assert is_stale(many, NOW, 60)


@pytest.mark.parametrize("status", [TaskStatus.COMPLETED, TaskStatus.FAILED])
def test_finished_tasks_are_never_stale(status):
    assert not is_stale(task_in(status, updated_time=NOW - 10_000), NOW, 60)


HOLDING = QueueState(emptied_at=None)  # its queue has held messages whenever it was looked at


def test_a_task_waiting_in_a_queue_that_holds_messages_is_not_lost_however_long_it_waits():
    waiting = task_in(TaskStatus.CREATED)  # an hour old, never picked up
    assert is_stale(waiting, NOW, 60)
    assert not is_lost(waiting, NOW, 60, HOLDING)
    assert not is_lost(waiting, NOW + DEFAULT_RETENTION_SECONDS - 3600, 60, HOLDING)
    # Past the queue's retention (and the grace), SQS has dropped its message.
    assert is_lost(waiting, NOW - 3600 + DEFAULT_RETENTION_SECONDS + 60, 60, HOLDING)


def test_a_task_last_written_before_its_queue_was_seen_empty_is_lost_after_the_grace():
    waiting = task_in(TaskStatus.CREATED)
    assert is_lost(waiting, NOW, 60, QueueState(emptied_at=NOW))
    # Seen empty earlier, and messages since: tasks written before the sighting are still lost ...
    assert is_lost(waiting, NOW, 60, QueueState(emptied_at=NOW - 3600 + 60))
    # ... those written after it (or within the counts' delay before it) are not.
    assert not is_lost(waiting, NOW, 60, QueueState(emptied_at=NOW - 3600 + 59))
    sent_again = dataclasses.replace(waiting, updated_time=NOW - 30, redispatches=1)
    assert not is_lost(sent_again, NOW, 60, QueueState(emptied_at=NOW))


def test_an_attempt_whose_lease_is_live_is_never_lost():
    held = task_in(TaskStatus.IN_PROGRESS, attempt=1, lease_expires=NOW + 5, updated_time=NOW - 3600)
    assert not is_lost(held, NOW, 60, QueueState(emptied_at=NOW))
