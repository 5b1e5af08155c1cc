"""Domain errors. The API maps each to one HTTP status in ``app/api/errors.py``."""


class DomainError(Exception):
    """Base of every error the service reports to a caller."""


class TaskNotFound(DomainError):
    def __init__(self, task_id: str):
        super().__init__(f"Task {task_id} not found")
        self.task_id = task_id


class InvalidTransition(DomainError):
    def __init__(self, task_id: str, current: str, target: str):
        super().__init__(f"Task {task_id} is {current}; it cannot move to {target}")
        self.task_id = task_id
        self.current = current
        self.target = target


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


class StoreUnavailable(DomainError):
    """The task store could not be reached or refused the call."""
