"""What a listing asks for. How it is served is the store's business."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.task import Task, TaskStatus

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
    # A search (app/domain/search.py query_words): tasks with every one of these words.
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskPage:
    tasks: list[Task] = field(default_factory=list)
    next_token: str | None = None
