"""What the use cases need from the outside world, as types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from app.domain.listing import TaskPage, TaskQuery
from app.domain.task import Task
from app.domain.timeline import TaskEvent

Clock = Callable[[], float]


class TaskRepository(Protocol):
    def add(self, task: Task, event: TaskEvent | None = None) -> None: ...
    def add_events(self, events: list[TaskEvent]) -> None: ...
    def events(self, task_id: str) -> list[TaskEvent]: ...
    def get(self, task_id: str) -> Task: ...
    def list(self, query: TaskQuery, page_token: str | None = None) -> TaskPage: ...
    def replace_if(self, new: Task, expected: Task) -> Task: ...
