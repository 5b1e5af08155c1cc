"""Which delivery of a task's message gets to run it.

SQS delivers at least once, so a worker first claims the task. The claim
carries an attempt number that later writes are conditioned on, which fences
off a slow attempt whose lease was taken over.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.domain.recovery import MAX_ATTEMPTS
from app.domain.task import Task, TaskStatus


class ClaimOutcome(enum.Enum):
    START = "start"  # first run
    RESUME = "resume"  # an earlier attempt crashed and its lease ran out
    FINISHED = "finished"  # a duplicate delivery of a task that already ended (or was cancelled)
    BUSY = "busy"  # another attempt holds a live lease
    NOT_DUE = "not_due"  # SCHEDULED: the scheduler sends it again when its run_at comes
    CANCEL = "cancel"  # its attempt stopped after a cancel request: it ends CANCELLED, not resumed
    # It has had all its attempts (a message sent again, or delivered again, after the last): it ends FAILED
    EXHAUSTED = "exhausted"


@dataclass(frozen=True)
class ClaimDecision:
    outcome: ClaimOutcome
    attempt: int


def decide_claim(task: Task, now: float, max_attempts: int = MAX_ATTEMPTS) -> ClaimDecision:
    """What this delivery of ``task``'s message does; never an attempt past ``max_attempts``.

    The cap is judged on the task, not on the message's receive count: a
    message sent again (reconciler, dead-letter handler) starts its count
    afresh, the task's attempts don't. The claim that follows is a write
    conditional on the attempt read here, so concurrent deliveries can't pass it.
    """
    if task.status.is_terminal:
        return ClaimDecision(ClaimOutcome.FINISHED, task.attempt)
    if task.status is TaskStatus.SCHEDULED:
        return ClaimDecision(ClaimOutcome.NOT_DUE, task.attempt)
    if task.status is TaskStatus.IN_PROGRESS and task.lease_expires > now:
        return ClaimDecision(ClaimOutcome.BUSY, task.attempt)
    if task.status is TaskStatus.IN_PROGRESS and task.cancel_requested:
        return ClaimDecision(ClaimOutcome.CANCEL, task.attempt)
    if task.attempt >= max_attempts:
        return ClaimDecision(ClaimOutcome.EXHAUSTED, task.attempt)
    if task.status is TaskStatus.CREATED:
        return ClaimDecision(ClaimOutcome.START, task.attempt + 1)
    return ClaimDecision(ClaimOutcome.RESUME, task.attempt + 1)


@dataclass(frozen=True)
class FirstClaim:
    """What a worker's first claim of a task found: the task it started, or the task as it was.

    ``current`` is None when the task no longer exists (expired by TTL).
    """

    claimed: Task | None
    current: Task | None
