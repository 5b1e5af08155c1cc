"""How long a task waited and ran, and the orders the list can be shown in: pure rules, no I/O.

The list reads only task items, so its figures come from what a task item
holds: when it was created, first started and finished (``created_ms``,
``started_ms``, ``finished_ms``) and its status. The task page also has the
timeline, which knows when each attempt started and ended.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.task import Task, TaskStatus
from app.domain.timeline import ErrorInfo, Hop, TaskEvent
from app.services.dashboard import RowKey


def duration_seconds(task: Task, now: float) -> int:
    """Created to finished for a finished task; created to now for one in flight."""
    if task.finished_ms is not None:
        return max(0, (task.finished_ms - task.created_ms) // 1000)
    end = task.updated_time if task.status.is_terminal and task.updated_time else now
    return max(0, int(end) - task.created_time)


def run_seconds(task: Task, now: float) -> int | None:
    """First started to finished (or to now while running): its run, its queue wait aside.
    Between attempts it stands still at the crash of the last one. None for a task no worker has started."""
    if task.started_ms is None:
        return None
    stopped = run_stopped(task)
    end_ms = stopped * 1000 if stopped is not None else int(now * 1000)
    if task.finished_ms is not None:
        end_ms = task.finished_ms
    return max(0, (end_ms - task.started_ms) // 1000)


def run_stopped(task: Task) -> int | None:
    """When a task between attempts stopped running (its last attempt's crash, epoch seconds): its run
    time stands still from then until the next attempt starts. None for any other task."""
    if not task.is_between_attempts:
        return None
    # The write that recorded the crash (and set retry_at) set updated_time too.
    return task.updated_time


def waiting_seconds(task: Task, now: float) -> int | None:
    """Created to first started; so far for a task no worker has started (None: no start recorded)."""
    if task.started_ms is not None:
        return max(0, (task.started_ms - task.created_ms) // 1000)
    if task.status is TaskStatus.CREATED:
        return max(0, int(now) - task.created_time)
    return None


def span(seconds: int) -> str:
    """'<1 s', '12 s', '3 min 5 s', '2 h 10 min', '3 d 4 h': the same words as static/app.js."""
    if seconds < 1:
        return "<1 s"
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


# The orders the list offers. Only "created" is DynamoDB's own (newest first,
# across every page); the others order the rows loaded so far.
SORTS: dict[str, str] = {
    "created": "Newest first",
    "oldest": "Oldest first (loaded rows)",
    "duration": "Longest run time (loaded rows)",
    "status": "Status (loaded rows)",
}
DEFAULT_SORT = "created"
STATUS_RANK = {status: rank for rank, status in enumerate(TaskStatus)}


def sorted_rows(rows: list[Task], sort: str, now: float) -> list[Task]:
    """The rows in ``sort`` order; ties keep newest first. static/app.js sorts the same way."""
    newest_first = sorted(rows, key=RowKey.of, reverse=True)
    if sort == "oldest":
        return newest_first[::-1]
    if sort == "duration":
        return sorted(newest_first, key=lambda task: -(run_seconds(task, now) or 0))
    if sort == "status":
        return sorted(newest_first, key=lambda task: STATUS_RANK[task.status])
    return newest_first


# --- attempts, from the timeline ------------------------------------------------------

# The worker's own hops carry the attempt (claim) number they belong to.
# "delivered" does not: its number counts SQS receives.
_ATTEMPT_HOPS = {
    Hop.STARTED,
    Hop.RESUMED,
    Hop.PROGRESS,
    Hop.CRASHED,
    Hop.COMPLETED,
    Hop.FAILED,
    Hop.DEAD_LETTERED,
    Hop.CANCELLED,
}
_OUTCOME_HOPS = {Hop.CRASHED, Hop.COMPLETED, Hop.FAILED, Hop.DEAD_LETTERED, Hop.CANCELLED}


@dataclass(frozen=True)
class Outcome:
    hop: Hop
    message: str
    source: str
    since_created_ms: int
    # A crashed attempt's exception: its type, message and the end of its stack trace.
    error: ErrorInfo | None = None


@dataclass(frozen=True)
class Attempt:
    number: int
    # Milliseconds since the task was created; None when the timeline lacks the event.
    started_ms: int | None
    resumed: bool
    outcomes: tuple[Outcome, ...]
    last_progress: int | None

    @property
    def ended_ms(self) -> int | None:
        return self.outcomes[0].since_created_ms if self.outcomes else None

    @property
    def ran_ms(self) -> int | None:
        if self.started_ms is None or self.ended_ms is None:
            return None
        return max(0, self.ended_ms - self.started_ms)


def attempts(events: list[TaskEvent]) -> list[Attempt]:
    """Each attempt a worker made, in order: when it started, how it ended (every outcome recorded)."""
    grouped: dict[int, list[TaskEvent]] = {}
    for event in sorted(events, key=lambda event: event.at_ms):
        if event.hop in _ATTEMPT_HOPS and event.attempt:
            grouped.setdefault(event.attempt, []).append(event)
    result = []
    for number, group in sorted(grouped.items()):
        starts = [event for event in group if event.hop in (Hop.STARTED, Hop.RESUMED)]
        progress = [event.progress for event in group if event.progress is not None]
        outcomes = tuple(
            Outcome(event.hop, event.message, event.source, event.since_created_ms, event.error)
            for event in group
            if event.hop in _OUTCOME_HOPS
        )
        result.append(
            Attempt(
                number=number,
                started_ms=starts[0].since_created_ms if starts else None,
                resumed=bool(starts) and starts[0].hop is Hop.RESUMED,
                outcomes=outcomes,
                last_progress=progress[-1] if progress else None,
            )
        )
    return result


def queue_wait_ms(events: list[TaskEvent]) -> int | None:
    """Created to the first start of any attempt; None until a worker started the task."""
    starts = [event.since_created_ms for event in events if event.hop is Hop.STARTED]
    return min(starts) if starts else None
