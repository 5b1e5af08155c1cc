"""What to do with a task that nothing is moving: send it again, fail it, or leave it.

Two places ask. The reconciler, every minute, about tasks that have stood
still too long (CREATED and never picked up, or IN_PROGRESS with no attempt
holding them); the dead-letter handler, about a task whose message ran out
of deliveries. The answer is the same rule for both:

- a finished task, a SCHEDULED one (the scheduler sends it when it is due),
  or one an attempt holds (its lease is live), is left alone;
- one whose cancel was asked for ends CANCELLED rather than being sent again;
- one that has had its share of real attempts ends FAILED, saying why;
- the dead-letter handler also fails one whose messages keep running out of
  deliveries without a worker finishing it (sent again too often);
- any other is sent to its workers again (a new message).

The reconciler sends a task again only when its message is gone, not
because time passed (``is_lost``): a message SQS accepted stays in its
queue until a worker deletes it (the task ended), it moves to the DLQ
(the dead-letter handler acts on it) or the queue's retention ends. So a
task waiting in a long queue, or between attempts (its message hidden
until its backoff ends), is left alone: one message per task at a time.
It waits longer before each new send of the same task (doubling) and never
fails a task for being sent again: a task that truly can't be started
ends in the dead-letter queue, where the limit applies.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.domain.cancellation import cancelled_message
from app.domain.task import Task, TaskStatus

# Real attempts a task gets unless its type declares otherwise (max_attempts); its
# queue's maxReceiveCount is at least as many (app/domain/task_types.py).
MAX_ATTEMPTS = 5
# Messages a task may be sent again in all, after its first.
MAX_REDISPATCHES = 3
# Seconds before a crashed attempt's task runs again: after the first crash, the second, ...
# (the last repeats). RETRY_DELAYS in app/settings.py sets them.
DEFAULT_RETRY_DELAYS = (5, 30, 120)


def backoff_seconds(attempt: int, delays: tuple[int, ...] = DEFAULT_RETRY_DELAYS) -> int:
    """How long the task of crashed attempt ``attempt`` (1, 2, ...) waits before the next one."""
    return delays[max(1, min(attempt, len(delays))) - 1]


class Recovery(enum.Enum):
    LEAVE = "leave"
    REDISPATCH = "redispatch"
    FAIL = "fail"
    CANCEL = "cancel"


@dataclass(frozen=True)
class RecoveryDecision:
    action: Recovery
    reason: str


def decide_recovery(
    task: Task, now: float, *, max_attempts: int = MAX_ATTEMPTS, max_redispatches: int | None = None
) -> RecoveryDecision:
    """What to do with ``task``, which no message is known to be moving (no limit on sends if None)."""
    if task.status.is_terminal:
        return RecoveryDecision(Recovery.LEAVE, f"already {task.status.value}")
    if task.status is TaskStatus.SCHEDULED:
        return RecoveryDecision(Recovery.LEAVE, f"scheduled for {task.run_at}")
    if task.status is TaskStatus.IN_PROGRESS and task.lease_expires > now:
        return RecoveryDecision(Recovery.LEAVE, f"attempt {task.attempt} holds it until {task.lease_expires}")
    if task.cancel_requested:
        return RecoveryDecision(Recovery.CANCEL, cancelled_message(task.cancel_requested))
    last = f"; last: {task.status_msg}" if task.status_msg else ""
    if task.attempt >= max_attempts:
        return RecoveryDecision(Recovery.FAIL, f"gave up after {task.attempt} attempt(s){last}")
    if max_redispatches is not None and task.redispatches >= max_redispatches:
        started = f"{task.attempt} attempt(s)" if task.attempt else "no worker could start it"
        return RecoveryDecision(
            Recovery.FAIL, f"gave up after sending it {task.redispatches + 1} times: {started}{last}"
        )
    if task.status is TaskStatus.CREATED:
        return RecoveryDecision(Recovery.REDISPATCH, "no worker picked it up")
    return RecoveryDecision(Recovery.REDISPATCH, f"attempt {task.attempt} stopped without finishing")


# However often a task was sent again, the reconciler looks at it at least this often.
MAX_WAIT_SECONDS = 24 * 3600


def is_stale(task: Task, now: float, stale_after_seconds: float) -> bool:
    """Has ``task`` stood still longer than the normal path would take to move it?

    Stood still: not written since (its creation, or its last send); no lease
    held if IN_PROGRESS (a crashed attempt's message comes back after the
    queue's visibility timeout: the threshold is above it). Each send doubles
    the wait before the next.
    """
    if task.status not in (TaskStatus.CREATED, TaskStatus.IN_PROGRESS):
        return False
    if task.status is TaskStatus.IN_PROGRESS and task.lease_expires > now:
        return False
    wait = min(MAX_WAIT_SECONDS, stale_after_seconds * 2**task.redispatches)
    # A crashed attempt's message is hidden until its backoff ends (retry_at): it is not lost
    # before then, so the clock starts there; one message per task at a time.
    since = task.retry_at if task.is_between_attempts else (task.updated_time or task.created_time)
    return since <= now - wait


# SQS's default retention, and the task queues' (app/task_type_stack.py): assumed when unread.
DEFAULT_RETENTION_SECONDS = 4 * 24 * 3600


@dataclass(frozen=True)
class QueueState:
    """What is known of a task type's queue: when it was last seen holding no message at
    all (waiting, in flight or delayed; None: never), and how long it keeps a message."""

    emptied_at: float | None
    retention_seconds: int = DEFAULT_RETENTION_SECONDS


def is_lost(task: Task, now: float, stale_after_seconds: float, queue: QueueState) -> bool:
    """Has ``task`` stood still (``is_stale``) with no message of its own left to move it?

    Its message is gone if it was last written before its queue was seen
    empty (a purge, a make run restart, a send that never happened), or
    longer ago than the queue keeps messages: its last send is no later than
    its last write. ``stale_after_seconds`` is also the grace that covers
    SQS's counts (a minute behind at most) and a publisher's short delay.
    """
    if not is_stale(task, now, stale_after_seconds):
        return False
    return (task.updated_time or task.created_time) <= lost_before(now, stale_after_seconds, queue)


def lost_before(now: float, stale_after_seconds: float, queue: QueueState) -> int:
    """A task last written after this (epoch seconds) may still have a message in ``queue``."""
    before = now - queue.retention_seconds
    if queue.emptied_at is not None:
        before = max(before, queue.emptied_at)
    return int(before - stale_after_seconds)
