"""Counts and per-minute statistics of tasks, as deltas from the changes to task items.

Every change to a task item (a new task, a status change, a task removed by
TTL) becomes deltas: how many tasks there are in each status of each type,
how many were ever created, and per minute and task type how many were
created, completed, failed and cancelled, with histograms of their queue wait
(created to first start) and run time (start to finish). Deltas of a whole
batch of changes are added up here, so each aggregate item is written once
per batch, not once per task. Pure: no I/O.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

# Upper bounds of the latency histogram's buckets, in milliseconds; the last bucket is open.
BUCKET_BOUNDS_MS = (
    10,
    20,
    50,
    100,
    200,
    500,
    1_000,
    2_000,
    5_000,
    10_000,
    20_000,
    60_000,
    300_000,
    1_800_000,
)
FINAL_STATUSES = ("COMPLETED", "FAILED", "CANCELLED")


@dataclass(frozen=True)
class TaskFacts:
    """What the aggregates need to know of a task item."""

    task_type: str
    status: str
    created_ms: int
    started_ms: int | None = None
    finished_ms: int | None = None


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

    def add(self, other: MinuteStats) -> None:
        self.created += other.created
        self.completed += other.completed
        self.failed += other.failed
        self.cancelled += other.cancelled
        self.wait.update(other.wait)
        self.run.update(other.run)


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


def bucket_of(milliseconds: int) -> int:
    return bisect.bisect_left(BUCKET_BOUNDS_MS, max(0, milliseconds))


def deltas_of(changes: list[TaskChange]) -> Deltas:
    """The deltas of a batch of changes, in order."""
    deltas = Deltas()
    for change in changes:
        old, new = change.old, change.new
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
    deltas.counts = Counter({key: count for key, count in deltas.counts.items() if count})
    return deltas


def percentile(histogram: Counter[int], share: float) -> int | None:
    """The upper bound (ms) of the bucket holding the ``share`` quantile; None for no data."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = share * total
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return BUCKET_BOUNDS_MS[bucket] if bucket < len(BUCKET_BOUNDS_MS) else BUCKET_BOUNDS_MS[-1] * 2
    return BUCKET_BOUNDS_MS[-1] * 2
