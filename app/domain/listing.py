"""What a listing asks for. How it is served is the store's business."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    # RETRYING or GAVE_UP: those tasks only (none if the status is another); NONE: the tasks in neither.
    retry_state: RetryState | None = None
    # A search (app/domain/search.py query_words): tasks with every one of these words.
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskPage:
    tasks: list[Task] = field(default_factory=list)
    next_token: str | None = None


def retry_filter_conflict(status: TaskStatus | None, retry_state: RetryState | None) -> str | None:
    """Why no task of ``status`` can be in ``retry_state`` (such a listing is empty), or None."""
    wanted = retry_state.status if retry_state else None
    if wanted is None or status in (None, wanted):
        return None
    return f"retry_state {retry_state.value} is of {wanted.value} tasks only, not {status.value}"
