"""What the API returns, as typed values. Unknown fields and statuses are kept, never refused."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


class TaskStatus(enum.StrEnum):
    """The statuses this client knows; a task may carry one it doesn't (``Task.status`` is a str)."""

    SCHEDULED = "SCHEDULED"
    CREATED = "CREATED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


FINAL_STATUSES = frozenset({TaskStatus.COMPLETED.value, TaskStatus.FAILED.value, TaskStatus.CANCELLED.value})


def _from_json(cls: type, raw: Mapping[str, Any]) -> Any:
    """An instance of the dataclass ``cls`` from a JSON object: known fields typed, the whole kept in raw."""
    known = {f.name for f in fields(cls) if f.init and f.name != "raw"}
    return cls(**{name: raw[name] for name in known if name in raw}, raw=dict(raw))


@dataclass(frozen=True)
class Task:
    """A task as ``GET /tasks/{id}`` returns it."""

    id: str
    task_type: str
    status: str
    status_msg: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    created_time: int | None = None
    updated_time: int | None = None
    ttl: int | None = None
    retry_of: str | None = None
    progress: int | None = None
    trace: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    run_at: int | None = None
    callback_url: str | None = None
    retried_as: str | None = None
    # Who asked to cancel it while it ran (it ends CANCELLED at its worker's next step).
    cancel_requested: str | None = None
    # The object exactly as the server sent it, fields this client doesn't know included.
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Task:
        return _from_json(cls, raw)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def extra(self) -> dict[str, Any]:
        """Fields the server sent that this client has no attribute for."""
        known = {f.name for f in fields(self)}
        return {name: value for name, value in self.raw.items() if name not in known}


@dataclass(frozen=True)
class TaskEvent:
    """One hop of a task's timeline (``GET /tasks/{id}/events``)."""

    hop: str
    at_ms: int
    since_created_ms: int = 0
    source: str = ""
    status: str | None = None
    attempt: int | None = None
    progress: int | None = None
    message: str = ""
    # A webhook attempt's HTTP status.
    http_status: int | None = None
    # A crashed attempt's exception: {"type", "message", "stack"}.
    error: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> TaskEvent:
        return _from_json(cls, raw)


@dataclass(frozen=True)
class TaskPage:
    """One page of ``GET /tasks``; ``next_token`` is None on the last page."""

    tasks: list[Task]
    next_token: str | None = None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> TaskPage:
        return cls([Task.from_json(task) for task in raw.get("tasks") or []], raw.get("next_token"))


@dataclass(frozen=True)
class Accepted:
    """The answer to a create or a retry: the new task's id and where to poll it."""

    id: str
    location: str | None = None
    # Set on a retry: the task it retries.
    retry_of: str | None = None
    # The server's polling hint, in seconds, when it sent one.
    retry_after: float | None = None
    # True when the server answered an earlier request with the same Idempotency-Key.
    replayed: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
