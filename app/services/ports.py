"""What the use cases need from the outside world, as types."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from app.domain.claims import FirstClaim
from app.domain.idempotency import IdempotencyRecord
from app.domain.listing import TaskPage, TaskQuery
from app.domain.task import RetryState, Task, TaskStatus
from app.domain.timeline import TaskEvent

Clock = Callable[[], float]
# Whether ``password`` is ``user``'s, given "user -> hash" (app/adapters/passwords.py's verify).
PasswordCheck = Callable[[dict[str, str], str, str], bool]


# Timeline events a write carries (app/adapters/task_store.py: final and claim events).
Events = Sequence[TaskEvent]


class TaskRepository(Protocol):
    def add(self, task: Task, idempotency: IdempotencyRecord | None = None, now: float = 0) -> None: ...
    def add_events(self, events: list[TaskEvent]) -> None: ...
    def events(self, task_id: str) -> list[TaskEvent]: ...
    def get(self, task_id: str) -> Task: ...
    def get_many(self, task_ids: list[str]) -> dict[str, Task]: ...
    def list(self, query: TaskQuery, page_token: str | None = None) -> TaskPage: ...
    def replace_if(
        self, new: Task, expected: Task, final_events: Events = (), claim_events: Events = ()
    ) -> Task: ...
    def claim_first_attempt(
        self, task_id: str, task_type: str, now: float, lease_expires: int, events: Sequence[TaskEvent] = ()
    ) -> FirstClaim: ...
    def add_retry(
        self, original: Task, retry: Task, idempotency: IdempotencyRecord | None = None, now: float = 0
    ) -> None: ...
    def idempotency_record(self, scope: str) -> IdempotencyRecord | None: ...
    def add_idempotency_record(self, record: IdempotencyRecord, now: float) -> None: ...


# --- the task counts (app/adapters/aggregates.py) -----------------------------------------------


@dataclass(frozen=True)
class StatusCount:
    status: TaskStatus
    count: int
    # True when counting stopped at the counter's cap: there are at least ``count``.
    capped: bool = False
    # A part of the status: NONE (IN_PROGRESS running now), RETRYING, or GAVE_UP (of FAILED).
    retry_state: RetryState | None = None


@dataclass(frozen=True)
class Tally:
    """The counts, how many tasks were ever created, and the current state of the tasks asked for."""

    counts: list[StatusCount]
    created: int
    tasks: dict[str, Task | None] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Short text that changes whenever a count does: the page sends back what it shows."""
        import zlib

        text = ",".join(
            f"{count.status.value}{count.retry_state or ''}:{count.count}" for count in self.counts
        )
        return f"{zlib.crc32(text.encode()):08x}"


class StatusCounter(Protocol):
    def by_status(self, task_type: str | None = None) -> list[StatusCount]: ...

    def tally(self, task_type: str | None = None, task_ids: Iterable[str] = ()) -> Tally:
        """The counts (of one type or all) and the tasks named, read together: one request."""
        ...


# --- the dead-letter and task queues (app/adapters/dead_letters.py) -----------------------------


class QueueUnavailable(Exception):
    """A queue could not be read (SQS refused or could not be reached)."""


class RedriveRefused(Exception):
    """SQS would not start the redrive (one is running already, say); the message says why."""


@dataclass(frozen=True)
class Peeked:
    message_id: str
    body: str
    sent_ms: int


@dataclass(frozen=True)
class Move:
    """A redrive (SQS message move task): RUNNING, COMPLETED, CANCELLED or FAILED."""

    status: str
    moved: int
    to_move: int
    started_ms: int
    failure: str = ""


@dataclass(frozen=True)
class QueueLook:
    url: str
    arn: str
    visible: int
    in_flight: int
    # Oldest first, at most the adapter's peek (10).
    messages: list[Peeked]
    last_move: Move | None = None


@dataclass(frozen=True)
class QueueCounts:
    visible: int
    in_flight: int
    delayed: int = 0

    @property
    def depth(self) -> int:
        return self.visible + self.in_flight


@dataclass(frozen=True)
class Held:
    """One message received (hidden from other readers for a while) to be looked at or acted on."""

    message_id: str
    body: str
    sent_ms: int
    receive_count: int
    # SQS message attributes as received (DataType/StringValue), sent again on a retry.
    attributes: dict[str, dict[str, str]]
    receipt: str


class Queues(Protocol):
    def look(self, url: str, moves: bool) -> QueueLook: ...

    def redrive(self, source_arn: str) -> None: ...

    def take(self, url: str, message_id: str) -> Held | None:
        """The message named, received and hidden for a while (the others looked through are released)."""
        ...

    def release(self, url: str, receipt: str) -> None: ...

    def delete(self, url: str, receipt: str) -> None: ...

    def send(self, url: str, body: str, attributes: dict[str, dict[str, str]]) -> None: ...

    def purge(self, url: str) -> None: ...

    def counts(self, url: str) -> QueueCounts:
        """One GetQueueAttributes: messages waiting, in flight and delayed."""
        ...


@dataclass(frozen=True)
class Capacity:
    """What a task type's workers may do at once, as serverless.yml sets it."""

    concurrency: int
    batch_size: int
    longest_run_seconds: float
    # Declared with the type; None: the throughput is a floor, every run taken as the longest.
    mean_run_seconds: float | None = None

    @property
    def tasks_per_second(self) -> float:
        """The throughput it buys: concurrency divided by the mean run (a batch's records run in turn)."""
        return self.concurrency / (self.mean_run_seconds or self.longest_run_seconds)
