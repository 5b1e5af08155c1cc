"""What a listing asks for. How it is served is the store's business."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.errors import InvalidTaskInput
from app.domain.task import RetryState, Task, TaskStatus

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class TaskQuery:
    status: TaskStatus | None = None
    task_type: str | None = None
    # Inclusive bounds on created_time, epoch seconds.
    created_from: int | None = None
    created_to: int | None = None
    limit: int = DEFAULT_PAGE_SIZE
    # RETRYING or GAVE_UP: those tasks only (of their status); NONE: the status's tasks in neither.
    retry_state: RetryState | None = None

    def __post_init__(self) -> None:
        check_retry_filter(self.status, self.retry_state)


@dataclass(frozen=True)
class TaskPage:
    tasks: list[Task] = field(default_factory=list)
    next_token: str | None = None


def check_retry_filter(status: TaskStatus | None, retry_state: RetryState | None) -> None:
    """InvalidTaskInput for a retry state no task of ``status`` can be in, or ``none`` without a status."""
    if retry_state is RetryState.NONE and status is None:
        raise InvalidTaskInput(
            "retry_state none needs a status (IN_PROGRESS: running now; FAILED: failed by its run)"
        )
    if (
        retry_state is not None
        and retry_state.status is not None
        and status not in (None, retry_state.status)
    ):
        raise InvalidTaskInput(
            f"retry_state {retry_state.value} is of {retry_state.status.value} tasks only, not {status.value}"
        )
