"""How many shards each listing index's partition keys are split into, and which shard a task is in.

A DynamoDB partition key takes at most 1,000 write units a second. Every task
writes each listing index's key for its status, type or "all" once or twice
in its life (into a status and out of it), so at a target rate the index needs
``rate x writes / (1,000 x utilization)`` shards: the key gets a ``#<shard>``
suffix, the shard chosen by a hash of the task id, and listing reads every
shard and merges them (app/domain/listing.py).

The count is derived from the target rate (``TARGET_TASKS_PER_SECOND``) and
only ever grows: readers query shards 0..count-1, so tasks written with a
smaller count are still found; a smaller count would hide some.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

PARTITION_WRITE_UNITS_PER_SECOND = 1000
# Room left on every partition key for bursts and uneven hashing.
UTILIZATION = 0.8

# The most writes one task makes to one partition key of each index (KEYS_ONLY
# entries of well under 1 KB, so a write is one unit): a status key sees the
# task arrive and leave.
KEY_WRITES_PER_TASK = {
    "by_created": 1,
    "by_type": 1,
    "by_status": 2,
    "by_type_status": 2,
    # A search word's entries (app/adapters/search_index.py, items of the table itself): a
    # task's entry is put, and deleted at most once (a crash's message giving way to the next).
    "search": 2,
}


def shards_for(target_tasks_per_second: float, writes_per_task: int) -> int:
    budget = PARTITION_WRITE_UNITS_PER_SECOND * UTILIZATION
    return max(1, math.ceil(target_tasks_per_second * writes_per_task / budget))


@dataclass(frozen=True)
class ShardCounts:
    """Shards of each listing index's partition keys."""

    by_created: int = 1
    by_type: int = 1
    by_status: int = 1
    by_type_status: int = 1
    search: int = 1

    @classmethod
    def for_rate(cls, target_tasks_per_second: float) -> ShardCounts:
        return cls(
            **{
                name: shards_for(target_tasks_per_second, writes)
                for name, writes in KEY_WRITES_PER_TASK.items()
            }
        )

    def of(self, index_name: str) -> int:
        return getattr(self, index_name)


def shard_of(task_id: str, count: int) -> int:
    """The task's shard among ``count``: stable, spread evenly by a hash of its id."""
    return zlib.crc32(task_id.encode()) % count
