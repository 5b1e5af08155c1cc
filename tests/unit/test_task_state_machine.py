import pytest

from app.domain.claims import ClaimOutcome, decide_claim
from app.domain.errors import InvalidTransition
from app.domain.task import (
    ALLOWED_TRANSITIONS,
    TaskStatus,
    can_transition,
    check_retryable,
    check_transition,
    new_task,
)

CREATED, IN_PROGRESS, COMPLETED, FAILED = (
    TaskStatus.CREATED,
    TaskStatus.IN_PROGRESS,
    TaskStatus.COMPLETED,
    TaskStatus.FAILED,
)


@pytest.mark.parametrize(
    ("current", "target"),
    [(CREATED, IN_PROGRESS), (CREATED, FAILED), (IN_PROGRESS, COMPLETED), (IN_PROGRESS, FAILED)],
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

    for status in (COMPLETED, FAILED):
        assert decide_claim(running.moved_to(status, "", 140), now=141).outcome is ClaimOutcome.FINISHED
