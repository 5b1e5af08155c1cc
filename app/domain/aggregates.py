"""Counts and per-minute statistics of tasks, as deltas from the changes to task items.

Every change to a task item (a new task, a status change, a task removed by
TTL) becomes deltas: how many tasks there are in each status of each type
(and, counted apart, how many of them are in a retry state: RETRYING of the
IN_PROGRESS ones, GAVE_UP of the FAILED ones), how many were ever created,
and per minute and task type how many were created, completed, failed and
cancelled, with histograms of their queue wait (created to first start) and
run time (start to finish), and per hour how often each failure message was
given. Deltas of a whole batch of changes are
added up here, so each aggregate item is written once per batch, not once per
task. Pure: no I/O.

The histograms' buckets grow by BUCKET_RATIO from 1 ms, so a percentile read
from them (the bucket's geometric middle) is within sqrt(1.1) - 1 = 4.9 % of
the true value, whatever the spread: about 210 buckets up to a week, of which
an item holds only those its tasks fell in.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.domain.task import RetryState, TaskStatus

# Bucket k >= 1 holds [BUCKET_RATIO ** (k - 1), BUCKET_RATIO ** k) ms; bucket 0 less than 1 ms.
BUCKET_RATIO = 1.1
FINAL_STATUSES = ("COMPLETED", "FAILED", "CANCELLED")
# A failure message is counted by its shape: numbers and ids vary, the reason does not.
# HTTP statuses (three digits, 100-599) are part of the reason and stay.
FAILURE_MESSAGE_LENGTH = 100
_NUMBERS = re.compile(r"(?<![\d.])(?![1-5]\d\d(?![\d.]))\d+(\.\d+)?")
_IDS = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


@dataclass(frozen=True)
class TaskFacts:
    """What the aggregates need to know of a task item."""

    task_type: str
    status: str
    created_ms: int
    started_ms: int | None = None
    finished_ms: int | None = None
    status_msg: str = ""
    # RETRYING or GAVE_UP (app/domain/task.py retry_state_of); None in neither.
    retry_state: RetryState | None = None


@dataclass(frozen=True)
class TaskChange:
    """One change to a task item: before and after (None when it didn't exist / no longer does)."""

    old: TaskFacts | None
    new: TaskFacts | None


@dataclass
class MinuteStats:
    created: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    # Bucket index -> tasks, one histogram for queue wait and one for run time.
    wait: Counter[int] = field(default_factory=Counter)
    run: Counter[int] = field(default_factory=Counter)
    # Failure message (its shape, failure_message_of) -> tasks that ended FAILED with it.
    failures: Counter[str] = field(default_factory=Counter)

    def add(self, other: MinuteStats) -> None:
        self.created += other.created
        self.completed += other.completed
        self.failed += other.failed
        self.cancelled += other.cancelled
        self.wait.update(other.wait)
        self.run.update(other.run)
        self.failures.update(other.failures)


@dataclass
class Deltas:
    # (task type, status) -> change in the number of tasks in that status.
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    # Task type -> tasks created.
    created: Counter[str] = field(default_factory=Counter)
    # (task type, minute as epoch seconds) -> what happened in that minute.
    minutes: dict[tuple[str, int], MinuteStats] = field(default_factory=dict)

    def minute(self, task_type: str, at_ms: int) -> MinuteStats:
        key = (task_type, at_ms // 60_000 * 60)
        if key not in self.minutes:
            self.minutes[key] = MinuteStats()
        return self.minutes[key]

    @property
    def empty(self) -> bool:
        return not any(self.counts.values()) and not self.created and not self.minutes


def bucket_of(milliseconds: float) -> int:
    if milliseconds < 1:
        return 0
    return 1 + math.floor(math.log(milliseconds) / math.log(BUCKET_RATIO) + 1e-9)


def bucket_value(bucket: int) -> float:
    """The value a bucket stands for: the geometric middle of its bounds (0 for under 1 ms)."""
    return 0.0 if bucket <= 0 else BUCKET_RATIO ** (bucket - 0.5)


def failure_message_of(status_msg: str) -> str:
    """A failure message's shape: ids and numbers replaced, cut short: like failures count together."""
    shape = _NUMBERS.sub("N", _IDS.sub("<id>", status_msg.strip()))
    return shape[:FAILURE_MESSAGE_LENGTH] or "(no message)"


def deltas_of(changes: list[TaskChange]) -> Deltas:
    """The deltas of a batch of changes, in order."""
    deltas = Deltas()
    for change in changes:
        old, new = change.old, change.new
        # A retry state is counted beside the status (by its name): a part of it, not a status of its own.
        before, after = old and old.retry_state, new and new.retry_state
        if old is not None and before and (new is None or after is not before):
            deltas.counts[(old.task_type, before.name)] -= 1
        if new is not None and after and (old is None or before is not after):
            deltas.counts[(new.task_type, after.name)] += 1
        if old is not None and (new is None or new.status != old.status):
            deltas.counts[(old.task_type, old.status)] -= 1
        if new is None or (old is not None and old.status == new.status):
            continue
        deltas.counts[(new.task_type, new.status)] += 1
        if old is None:
            deltas.created[new.task_type] += 1
            deltas.minute(new.task_type, new.created_ms).created += 1
        elif old.status in ("CREATED", "SCHEDULED") and new.status == "IN_PROGRESS" and new.started_ms:
            deltas.minute(new.task_type, new.started_ms).wait[bucket_of(new.started_ms - new.created_ms)] += 1
        if new.status in FINAL_STATUSES:
            finished = new.finished_ms or new.created_ms
            minute = deltas.minute(new.task_type, finished)
            setattr(minute, new.status.lower(), getattr(minute, new.status.lower()) + 1)
            if new.started_ms and new.status != "CANCELLED":
                minute.run[bucket_of(finished - new.started_ms)] += 1
            if new.status == "FAILED":
                minute.failures[failure_message_of(new.status_msg)] += 1
    deltas.counts = Counter({key: count for key, count in deltas.counts.items() if count})
    return deltas


def status_breakdown(counted: Mapping[str, int]) -> list[tuple[TaskStatus, RetryState | None, int]]:
    """The counts as the list shows them: every status, IN_PROGRESS split into running (NONE) and
    RETRYING, and FAILED followed by those of it that GAVE_UP. All but GAVE_UP add up to every task."""

    def count(name: str) -> int:
        return max(0, counted.get(name, 0))

    shown: list[tuple[TaskStatus, RetryState | None, int]] = []
    for status in TaskStatus:
        if status is TaskStatus.IN_PROGRESS:
            retrying = min(count(RetryState.RETRYING.name), count(status.value))
            shown += [(status, RetryState.NONE, count(status.value) - retrying)]
            shown += [(status, RetryState.RETRYING, retrying)]
        elif status is TaskStatus.FAILED:
            gave_up = min(count(RetryState.GAVE_UP.name), count(status.value))
            shown += [(status, None, count(status.value)), (status, RetryState.GAVE_UP, gave_up)]
        else:
            shown.append((status, None, count(status.value)))
    return shown


def percentile(histogram: Counter[int], share: float) -> float | None:
    """The ``share`` quantile (nearest rank), in ms, within 4.9 % of the true value; None for no data."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(share * total))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return bucket_value(bucket)
    return bucket_value(max(histogram))
