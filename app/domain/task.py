"""The task and its state machine: pure rules, no I/O."""

from __future__ import annotations

import dataclasses
import enum
import uuid
from dataclasses import dataclass
from typing import Any

from app.domain.errors import InvalidTransition
from app.domain.tracing import TraceContext


class TaskStatus(enum.StrEnum):
    # Waiting for its run_at; the scheduler makes it CREATED when it is due.
    SCHEDULED = "SCHEDULED"
    CREATED = "CREATED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_terminal(self) -> bool:
        return self in (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)


class RetryState(enum.StrEnum):
    """Where a task stands with its attempts, beside its status (which it never changes).

    RETRYING: IN_PROGRESS, between attempts (one crashed, the next waits for its
    backoff). GAVE_UP: FAILED because its attempts or deliveries ran out, as
    opposed to a run (or a client) that failed it. NONE is a filter only: in
    neither (of IN_PROGRESS, running now; of FAILED, failed by its run).
    """

    RETRYING = "retrying"
    GAVE_UP = "gave_up"
    NONE = "none"

    @property
    def status(self) -> TaskStatus | None:
        """The status a task in this state has (None: any)."""
        return {"retrying": TaskStatus.IN_PROGRESS, "gave_up": TaskStatus.FAILED}.get(self.value)


def retry_state_of(status: str, retry_at: int | None, gave_up: bool) -> RetryState | None:
    """The rule, on the fields a stored item or a stream image holds: RETRYING, GAVE_UP or neither (None)."""
    if status == TaskStatus.IN_PROGRESS.value and retry_at is not None:
        return RetryState.RETRYING
    if status == TaskStatus.FAILED.value and gave_up:
        return RetryState.GAVE_UP
    return None


# CREATED -> FAILED lets a task that never started be failed (its message
# exhausted its retries before any worker claimed it). SCHEDULED -> CREATED is
# the scheduler's move once run_at has come (or an operator's "run it now").
# Terminal states are final: a retry creates a new task linked to the old one.
ALLOWED_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.SCHEDULED: frozenset({TaskStatus.CREATED, TaskStatus.CANCELLED}),
    TaskStatus.CREATED: frozenset({TaskStatus.IN_PROGRESS, TaskStatus.FAILED, TaskStatus.CANCELLED}),
    TaskStatus.IN_PROGRESS: frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED}),
    TaskStatus.COMPLETED: frozenset(),
    TaskStatus.FAILED: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
}


def can_transition(current: TaskStatus, target: TaskStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def check_transition(task_id: str, current: TaskStatus, target: TaskStatus) -> None:
    if not can_transition(current, target):
        raise InvalidTransition(task_id, current.value, target.value)


@dataclass(frozen=True)
class Task:
    id: str
    task_type: str
    status: TaskStatus
    data: dict[str, Any]
    created_time: int
    ttl: int
    created_ms: int
    status_msg: str = ""
    updated_time: int | None = None
    # Worker bookkeeping: which delivery attempt owns the task, and until when.
    attempt: int = 0
    lease_expires: int = 0
    # Set on a task created by retrying a failed one, and on the failed one once retried.
    retry_of: str | None = None
    retried_as: str | None = None
    # 0-100 while a worker reports it.
    progress: int | None = None
    # How many times the task was sent to its workers again (app/domain/recovery.py).
    redispatches: int = 0
    # When a worker first started it, and when it reached a final status (epoch ms).
    started_ms: int | None = None
    finished_ms: int | None = None
    trace: TraceContext = dataclasses.field(default_factory=TraceContext)
    # What the worker's run returned (any JSON value); None until it completes.
    result: Any = None
    # Epoch seconds: the task waits SCHEDULED until then.
    run_at: int | None = None
    # Where the signed webhook goes when the task ends.
    callback_url: str | None = None
    # Who asked to cancel it while it ran; it ends CANCELLED at its worker's next write.
    cancel_requested: str | None = None
    # Why the stored item could not be read in full (its data is then shown as null); None when healthy.
    unreadable: str | None = None
    # Epoch seconds: a crashed attempt's task is run again from then (its backoff); None otherwise.
    retry_at: int | None = None
    # Set when recovery ended it FAILED because its attempts or deliveries ran out (app/services/recovery.py).
    gave_up: bool = False

    def to_public(self) -> dict[str, Any]:
        """The task as the API contract shows it."""
        return {
            "id": self.id,
            "task_type": self.task_type,
            "status": self.status.value,
            "status_msg": self.status_msg,
            "data": None if self.unreadable else self.data,
            "created_time": self.created_time,
            "updated_time": self.updated_time,
            "ttl": self.ttl,
            "retry_of": self.retry_of,
            "retried_as": self.retried_as,
            "progress": self.progress,
            "started_ms": self.started_ms,
            "finished_ms": self.finished_ms,
            "trace": self.trace.to_public(),
            "result": self.result,
            "run_at": self.run_at,
            "callback_url": self.callback_url,
            "cancel_requested": self.cancel_requested,
            "unreadable": self.unreadable,
            "attempt": self.attempt,
            "retry_at": self.retry_at if self.is_between_attempts else None,
            "retry_state": self.retry_state.value if self.retry_state else None,
        }

    @property
    def retry_state(self) -> RetryState | None:
        return retry_state_of(self.status.value, self.retry_at, self.gave_up)

    @property
    def is_between_attempts(self) -> bool:
        """An attempt crashed and the next one has not started: waiting for its backoff, not running."""
        return self.retry_state is RetryState.RETRYING

    def moved_to(self, status: TaskStatus, status_msg: str, now: float, **changes: Any) -> Task:
        """The task in ``status`` now; the first start and the end keep their time."""
        if status is TaskStatus.IN_PROGRESS and self.started_ms is None:
            changes.setdefault("started_ms", int(now * 1000))
        if status.is_terminal and self.finished_ms is None:
            changes.setdefault("finished_ms", int(now * 1000))
        return dataclasses.replace(
            self, status=status, status_msg=status_msg, updated_time=int(now), **changes
        )


def new_task(
    task_type: str,
    data: dict[str, Any],
    ttl: int,
    now: float,
    retry_of: str | None = None,
    trace: TraceContext | None = None,
    run_at: int | None = None,
    callback_url: str | None = None,
) -> Task:
    """A task as it is accepted: SCHEDULED when it has a run_at, CREATED otherwise."""
    return Task(
        id=str(uuid.uuid4()),
        task_type=task_type,
        status=TaskStatus.SCHEDULED if run_at is not None else TaskStatus.CREATED,
        data=data,
        created_time=int(now),
        created_ms=int(now * 1000),
        ttl=ttl,
        retry_of=retry_of,
        trace=trace or TraceContext(),
        run_at=run_at,
        callback_url=callback_url,
    )


def check_retryable(task: Task) -> None:
    """Only a FAILED task can be retried; the retry is a new task linked to it."""
    if task.status is not TaskStatus.FAILED:
        raise InvalidTransition(task.id, task.status.value, "a retry (only FAILED tasks can be retried)")
    if task.unreadable:
        raise InvalidTransition(
            task.id, task.status.value, f"a retry (its stored data is unreadable: {task.unreadable})"
        )
