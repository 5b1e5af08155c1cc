"""Domain errors. The API maps each to one HTTP status in ``app/api/errors.py``."""


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
