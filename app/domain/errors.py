"""Domain errors. The API maps each to one HTTP status in ``app/api/errors.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.domain.task import Task


class DomainError(Exception):
    """Base of every error the service reports to a caller."""


class TaskNotFound(DomainError):
    def __init__(self, task_id: str):
        shown = task_id if len(task_id) <= 64 else f"{task_id[:64]}..."
        super().__init__(f"Task {shown} not found")
        self.task_id = task_id


class InvalidTransition(DomainError):
    def __init__(self, task_id: str, current: str, target: str):
        super().__init__(f"Task {task_id} is {current}; it cannot move to {target}")
        self.task_id = task_id
        self.current = current
        self.target = target


class AlreadyRetried(DomainError):
    """The task was retried before: ``retry_id`` is that retry."""

    def __init__(self, task_id: str, retry_id: str):
        super().__init__(f"Task {task_id} was already retried as {retry_id}")
        self.task_id = task_id
        self.retry_id = retry_id


class InvalidPageToken(DomainError):
    def __init__(self, reason: str = "next_token is malformed or was not issued for this query"):
        super().__init__(reason)


class InvalidSearch(DomainError):
    """A search the index can't serve: no word in it, too long, or combined with a filter it can't take."""


class DataTooLarge(DomainError):
    def __init__(self, size: int, limit: int):
        super().__init__(f"data is {size} bytes as JSON; the limit is {limit} bytes")
        self.size = size
        self.limit = limit


class InvalidTaskInput(DomainError):
    """Input that passed the schema but breaks a rule of the domain."""


class InvalidJson(DomainError):
    """Not standard JSON: a syntax error, NaN or Infinity, a lone surrogate, a number out of range."""

    def __init__(self, reason: str, subject: str = ""):
        super().__init__(f"{subject} is not valid JSON: {reason}" if subject else f"Not valid JSON: {reason}")
        self.reason = reason


class TooDeeplyNested(DomainError):
    """JSON nested deeper than the documented limit (objects and arrays inside objects and arrays)."""


class Throttled(DomainError):
    """Too many attempts: the caller may try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class StoreUnavailable(DomainError):
    """The task store could not be reached or refused the call."""


class CancelRequested(InvalidTransition):
    """A write lost to a cancel request: the task, as stored, has ``cancel_requested`` set.

    The writer (a worker, mostly) ends the task CANCELLED instead; ``current`` is the task as stored.
    """

    def __init__(self, current: Task, target: str):
        super().__init__(current.id, current.status.value, target)
        self.current_task = current


class IdempotencyKeyReused(DomainError):
    """The Idempotency-Key was used before with a different request."""

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was used with a different request in the last 24 hours; "
            "use a new key for a new request"
        )


class IdempotencyKeyInFlight(DomainError):
    """Another request with the same Idempotency-Key is being handled right now."""

    retry_after = 1

    def __init__(self) -> None:
        super().__init__("A request with this Idempotency-Key is in flight; try again in a moment")


class InvalidIdempotencyKey(DomainError):
    """The Idempotency-Key header is empty, too long or not printable ASCII."""


class InvalidResult(DomainError):
    """A worker's result the task cannot hold: not JSON, too deep or too large."""


class NoCallback(DomainError):
    """A webhook was asked of a task that has no callback_url, or that has not ended yet."""

    def __init__(self, task_id: str, reason: str, current: str):
        super().__init__(f"Task {task_id} {reason}")
        self.task_id = task_id
        self.current = current


class IdempotencyKeyTaken(DomainError):
    """The store already holds a record for this Idempotency-Key: ``record`` (the service decides)."""

    def __init__(self, record: object):
        super().__init__("An Idempotency-Key record exists")
        self.record = record
