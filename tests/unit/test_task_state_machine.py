import pytest

from app.domain.cancellation import CancelAction, cancelled, decide_cancel
from app.domain.claims import ClaimOutcome, decide_claim
from app.domain.errors import InvalidTransition
from app.domain.recovery import Recovery, decide_recovery, is_stale
from app.domain.task import (
    ALLOWED_TRANSITIONS,
    TaskStatus,
    can_transition,
    check_retryable,
    check_transition,
    new_task,
)

SCHEDULED, CREATED, IN_PROGRESS, COMPLETED, FAILED, CANCELLED = (
    TaskStatus.SCHEDULED,
    TaskStatus.CREATED,
    TaskStatus.IN_PROGRESS,
    TaskStatus.COMPLETED,
    TaskStatus.FAILED,
    TaskStatus.CANCELLED,
)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (SCHEDULED, CREATED),
        (SCHEDULED, CANCELLED),
        (CREATED, IN_PROGRESS),
        (CREATED, FAILED),
        (CREATED, CANCELLED),
        (IN_PROGRESS, COMPLETED),
        (IN_PROGRESS, FAILED),
        (IN_PROGRESS, CANCELLED),
    ],
)
def test_allowed_moves(current, target):
    assert can_transition(current, target)
    check_transition("t1", current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (CREATED, CREATED),
        (CREATED, COMPLETED),
        (IN_PROGRESS, CREATED),
        (IN_PROGRESS, IN_PROGRESS),
        (COMPLETED, FAILED),
        (COMPLETED, IN_PROGRESS),
        (FAILED, CREATED),
        (FAILED, COMPLETED),
        (CANCELLED, CREATED),
        (CANCELLED, IN_PROGRESS),
        (COMPLETED, CANCELLED),
        (FAILED, CANCELLED),
        (SCHEDULED, IN_PROGRESS),
        (SCHEDULED, SCHEDULED),
        (CREATED, SCHEDULED),
    ],
)
def test_refused_moves_name_the_current_status(current, target):
    assert not can_transition(current, target)
    with pytest.raises(InvalidTransition) as refused:
        check_transition("t1", current, target)
    assert refused.value.current == current.value
    assert current.value in str(refused.value)


def test_terminal_states_have_no_way_out():
    for status in TaskStatus:
        assert (not ALLOWED_TRANSITIONS[status]) == status.is_terminal
    assert {status for status in TaskStatus if status.is_terminal} == {COMPLETED, FAILED, CANCELLED}


def test_a_task_with_a_run_at_starts_scheduled():
    task = new_task("TASK1", {}, ttl=2_000_000_000, now=100, run_at=160, callback_url="https://h.example/x")
    assert task.status is SCHEDULED
    public = task.to_public()
    assert (public["run_at"], public["callback_url"], public["result"], public["cancel_requested"]) == (
        160, "https://h.example/x", None, None,
    )  # fmt: skip


def test_new_task_starts_created_with_times():
    task = new_task("TASK1", {"a": 1}, ttl=2_000_000_000, now=1_700_000_000.5)
    assert task.status is CREATED
    assert task.created_time == 1_700_000_000
    assert task.created_ms == 1_700_000_000_500
    assert task.updated_time is None
    assert task.to_public()["updated_time"] is None
    assert set(task.to_public()) >= {
        "id", "task_type", "status", "status_msg", "data", "created_time", "updated_time", "ttl",
    }  # fmt: skip


def test_only_failed_tasks_can_be_retried():
    task = new_task("TASK1", {}, ttl=2_000_000_000, now=1_700_000_000)
    with pytest.raises(InvalidTransition):
        check_retryable(task)
    check_retryable(task.moved_to(FAILED, "boom", 1_700_000_001))


def test_claims_decide_who_runs_a_task():
    task = new_task("TASK1", {}, ttl=2_000_000_000, now=100)
    start = decide_claim(task, now=101)
    assert start.outcome is ClaimOutcome.START and start.attempt == 1

    running = task.moved_to(IN_PROGRESS, "", 101, attempt=1, lease_expires=131)
    assert decide_claim(running, now=120).outcome is ClaimOutcome.BUSY
    resumed = decide_claim(running, now=132)
    assert resumed.outcome is ClaimOutcome.RESUME and resumed.attempt == 2

    for status in (COMPLETED, FAILED, CANCELLED):
        assert decide_claim(running.moved_to(status, "", 140), now=141).outcome is ClaimOutcome.FINISHED


def test_a_claim_refuses_a_scheduled_task_and_cancels_an_abandoned_one_asked_to_stop():
    scheduled = new_task("TASK1", {}, ttl=2_000_000_000, now=100, run_at=500)
    assert decide_claim(scheduled, now=101).outcome is ClaimOutcome.NOT_DUE

    running = new_task("TASK1", {}, ttl=2_000_000_000, now=100).moved_to(
        IN_PROGRESS, "", 101, attempt=1, lease_expires=131, cancel_requested="api key 1234abcd"
    )
    # Its attempt still holds it: that attempt will see the request at its next write.
    assert decide_claim(running, now=120).outcome is ClaimOutcome.BUSY
    # Its attempt is gone: nobody runs it again.
    assert decide_claim(running, now=132).outcome is ClaimOutcome.CANCEL


def test_cancel_ends_a_waiting_task_at_once_marks_a_running_one_and_refuses_a_final_one():
    created = new_task("TASK1", {}, ttl=2_000_000_000, now=100)
    scheduled = new_task("TASK1", {}, ttl=2_000_000_000, now=100, run_at=500)
    assert decide_cancel(created) is CancelAction.CANCEL_NOW
    assert decide_cancel(scheduled) is CancelAction.CANCEL_NOW
    running = created.moved_to(IN_PROGRESS, "", 101, attempt=1, lease_expires=131)
    assert decide_cancel(running) is CancelAction.REQUEST
    asked = running.moved_to(IN_PROGRESS, "", 102, cancel_requested="dashboard user admin")
    assert decide_cancel(asked) is CancelAction.ALREADY_REQUESTED
    for status in (COMPLETED, FAILED, CANCELLED):
        with pytest.raises(InvalidTransition) as refused:
            decide_cancel(running.moved_to(status, "", 140))
        assert refused.value.current == status.value


def test_a_cancelled_task_drops_its_result_and_says_who_asked():
    running = new_task("TASK1", {}, ttl=2_000_000_000, now=100).moved_to(
        IN_PROGRESS, "", 101, attempt=2, lease_expires=131, cancel_requested="api key 1234abcd"
    )
    ended, event = cancelled(running, 150.5, "worker TASK1")
    assert (ended.status, ended.status_msg, ended.result, ended.lease_expires) == (
        CANCELLED, "cancelled by api key 1234abcd", None, 0,
    )  # fmt: skip
    assert (event.hop.value, event.source, event.status, event.attempt) == (
        "cancelled", "worker TASK1", "CANCELLED", 2,
    )  # fmt: skip
    assert event.since_created_ms == 50_500


def test_recovery_leaves_scheduled_tasks_and_cancels_abandoned_ones_asked_to_stop():
    scheduled = new_task("TASK1", {}, ttl=2_000_000_000, now=100, run_at=5000)
    assert decide_recovery(scheduled, now=4000).action is Recovery.LEAVE
    assert not is_stale(scheduled, now=4000, stale_after_seconds=60)

    abandoned = new_task("TASK1", {}, ttl=2_000_000_000, now=100).moved_to(
        IN_PROGRESS, "", 101, attempt=1, lease_expires=0, cancel_requested="api key 1234abcd"
    )
    decision = decide_recovery(abandoned, now=1000)
    assert (decision.action, decision.reason) == (Recovery.CANCEL, "cancelled by api key 1234abcd")
    held = abandoned.moved_to(IN_PROGRESS, "", 101, lease_expires=2000)
    assert decide_recovery(held, now=1000).action is Recovery.LEAVE


def test_a_claim_grants_no_attempt_past_the_limit_whatever_message_brings_it():
    task = new_task("TASK1", {}, ttl=2_000_000_000, now=100)
    last = task.moved_to(IN_PROGRESS, "", 101, attempt=5, lease_expires=131)
    assert decide_claim(last, now=120).outcome is ClaimOutcome.BUSY  # attempt 5 still runs
    spent = decide_claim(last, now=132)
    assert (spent.outcome, spent.attempt) == (ClaimOutcome.EXHAUSTED, 5)
    assert decide_claim(last, now=132, max_attempts=6).outcome is ClaimOutcome.RESUME
    fourth = task.moved_to(IN_PROGRESS, "", 101, attempt=4, lease_expires=131)
    assert decide_claim(fourth, now=132).attempt == 5
    assert decide_claim(fourth, now=132, max_attempts=4).outcome is ClaimOutcome.EXHAUSTED
