"""The table's write model, measured: what each task costs in write units, and where they land.

Read off the table's stream after tasks ran through the pipeline: every
change to an item is one base-table write, costing its size in 1 KB units
(twice that inside a transaction: the aggregates'), and for each global
secondary index it may be a delete of the old entry and a put of the new one
(an index projecting keys only is written only when its keys change: an
entry is well under 1 KB, so one unit). Every write is charged to its
partition key.

Extrapolated to a target rate with the shard counts configured for it:
a listing index's key ``<what>#<shard>`` takes its share of that key's writes
(and so does a search word's, ``SEARCH#<word>#<shard>``);
a task's own partition (``TASK#<id>``) is its own; the aggregate items are
written once per batch of the stream, not per task, so their rate follows the
number of stream shards (one per table partition, about 1,000 write units a
second each) and the batching window.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from app.adapters.sharding import PARTITION_WRITE_UNITS_PER_SECOND, ShardCounts

KB = 1024
# Items written in transactions (a transaction costs twice the items' units).
TRANSACTIONAL_PREFIXES = ("COUNTS#", "STATS#", "APPLIED#")
# Partitions that hold one task's items only: their rate is one task's, whatever the load.
PER_TASK_PREFIX = "TASK#"
# The search index's entries (app/adapters/search_index.py): items of the table, one per
# word of a task, keyed like a listing index's (``SEARCH#<word>#<shard>``); counted as
# an index of their own, "search".
SEARCH_PREFIX = "SEARCH#"
SEARCH = "search"
# Indexes whose partition key is a hash of the task id (spread evenly over this many
# values) rather than written-sharded: a sample of tasks says little of one value.
HASH_SPREAD = {"by_id_prefix": 16**2}


def spread_of(index: str, shards: ShardCounts) -> int:
    """How many partitions the index's writes for one logical key spread over."""
    if index in HASH_SPREAD:
        return HASH_SPREAD[index]
    return shards.of(index)


def attribute_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value (the name is counted apart)."""
    (kind, inner), = value.items()  # fmt: skip
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return (len(inner.strip("-").replace(".", "").lstrip("0")) + 1) // 2 + 1
    if kind == "B":
        return len(inner) * 3 // 4
    if kind == "BOOL" or kind == "NULL":
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: member}) for member in inner)
    if kind == "L":
        return 3 + sum(attribute_size(member) + 1 for member in inner)
    if kind == "M":
        return 3 + sum(len(name.encode()) + attribute_size(member) + 1 for name, member in inner.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(image: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in image.items())


def write_units(image: dict[str, Any]) -> int:
    return max(1, math.ceil(item_size(image) / KB))


@dataclass(frozen=True)
class IndexKeys:
    name: str
    hash_attr: str
    range_attr: str | None


@dataclass
class WriteModel:
    tasks: Counter[str] = field(default_factory=Counter)  # task type -> tasks measured
    # task type -> write units, base table and per index
    base_units: Counter[str] = field(default_factory=Counter)
    index_units: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    # write units of the aggregate items (per batch, not per task), and the batches they came in
    aggregate_units: int = 0
    aggregate_writes: Counter[str] = field(default_factory=Counter)  # partition key -> writes
    # (index or "table", partition key as written) -> write units, and per task type
    key_units: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def batches(self) -> int:
        """Batches of the stream the aggregates were written in (one marker each)."""
        return max(
            1, sum(writes for pk, writes in self.aggregate_writes.items() if pk.startswith("APPLIED#"))
        )

    def own_units_per_task(self, task_type: str) -> float:
        """Base-table and index units of one task of this type: what grows with the number of tasks."""
        own = self.base_units[task_type] + sum(units[task_type] for units in self.index_units.values())
        return own / self.tasks[task_type]

    def units_per_task(
        self, task_type: str, batches_per_second: float | None = None, rate: float = 0
    ) -> float:
        """Units per task: its own, and its share of the aggregates.

        The aggregates are written per batch, not per task: as measured (this
        run's batches, shared by its tasks), or at ``rate`` tasks a second with
        ``batches_per_second`` batches a second.
        """
        per_batch = self.aggregate_units / self.batches
        if batches_per_second is None:
            share = self.aggregate_units / sum(self.tasks.values())
        else:
            share = per_batch * batches_per_second / rate
        return self.own_units_per_task(task_type) + share

    def index_units_per_task(self, index: str, task_type: str) -> float:
        return self.index_units[index][task_type] / self.tasks[task_type]


def _task_type_of(
    keys: dict[str, Any], images: list[dict[str, Any] | None], types_by_task: dict[str, str]
) -> str | None:
    pk = keys["pk"]["S"]
    if not pk.startswith(PER_TASK_PREFIX):
        return None
    for image in images:
        if image and "task_type" in image:
            types_by_task[pk] = image["task_type"]["S"]
    return types_by_task.get(pk)


def measure(records: list[dict[str, Any]], indexes: list[IndexKeys]) -> WriteModel:
    """The write model of the stream records of a run (Lambda-shaped records, oldest first)."""
    model = WriteModel()
    types_by_task: dict[str, str] = {}
    for record in records:
        change = record["dynamodb"]
        old, new = change.get("OldImage"), change.get("NewImage")
        keys = change["Keys"]
        pk = keys["pk"]["S"]
        units = write_units(new or old or keys)
        task_type = _task_type_of(keys, [new, old], types_by_task)
        if record["eventName"] == "INSERT" and new and new.get("sk", {}).get("S") == "TASK":
            model.tasks[new["task_type"]["S"]] += 1
        if pk.startswith(SEARCH_PREFIX):
            # The search index's entries: items of the table, written per task by ``changes``.
            search_type = (new or old or {}).get("task_type", {}).get("S")
            if search_type is not None:
                model.index_units[SEARCH][search_type] += units
                model.key_units[(SEARCH, pk)] += units
            continue
        if pk.startswith(TRANSACTIONAL_PREFIXES):
            model.aggregate_units += 2 * units
            model.aggregate_writes[pk] += 1
            model.key_units[("table", pk)] += 2 * units
            continue
        if task_type is None:
            continue
        model.base_units[task_type] += units
        model.key_units[("table", pk)] += units
        for index in indexes:
            before = _index_key(old, index)
            after = _index_key(new, index)
            if before == after:
                continue  # keys only: an entry changes only with its keys
            for key in (before, after):
                if key is not None:
                    model.index_units[index.name][task_type] += 1
                    model.key_units[(index.name, key[0])] += 1
    return model


def _index_key(image: dict[str, Any] | None, index: IndexKeys) -> tuple[str, str] | None:
    if not image or index.hash_attr not in image:
        return None
    if index.range_attr and index.range_attr not in image:
        return None
    sort = image[index.range_attr]["S"] if index.range_attr else ""
    return image[index.hash_attr]["S"], sort


def logical_key(index: str, partition: str) -> str:
    """A key without its shard (and an aggregate item's without its minute): the key whose load spreads.

    ``IN_PROGRESS#3`` -> ``IN_PROGRESS``; ``STATS#TASK1#M#1800000000#0`` -> ``STATS#TASK1#M``.
    """
    if index == "table":
        if partition.startswith(("COUNTS#", "STATS#")):
            return "#".join(part for part in partition.split("#") if not part.isdigit())
        return partition
    if index in HASH_SPREAD:
        return "(any)"
    head, _, shard = partition.rpartition("#")
    return head if shard.isdigit() else partition


@dataclass(frozen=True)
class KeyRate:
    index: str
    key: str
    units_per_second: float


def stream_batches_per_second(
    model: WriteModel, target_tasks_per_second: float, batch_window: float
) -> float:
    """Batches the aggregates are written in at the target rate.

    One stream shard per ~1,000 write units a second of the table (its
    partitions), each delivering a batch per window when busy.
    """
    total_tasks = sum(model.tasks.values())
    table_units_per_task = sum(model.base_units.values()) / total_tasks
    shards = max(
        1, math.ceil(target_tasks_per_second * table_units_per_task / PARTITION_WRITE_UNITS_PER_SECOND)
    )
    return shards / max(batch_window, 1)


def hottest_keys(
    model: WriteModel, target_tasks_per_second: float, shards: ShardCounts, batch_window_seconds: float
) -> list[KeyRate]:
    """Every key's write units a second at the target rate, hottest first.

    A listing key's units spread over its index's shards. Task partitions are
    one task's. An aggregate item is written at most once a batch: its rate is
    the batches a second times its units per batch.
    """
    total_tasks = sum(model.tasks.values())
    per_task: Counter[tuple[str, str]] = Counter()
    for (index, partition), units in model.key_units.items():
        if index == "table" and partition.startswith((PER_TASK_PREFIX, "APPLIED#")):
            continue  # one task's own items, or one batch's marker: written a handful of times in all
        per_task[(index, logical_key(index, partition))] += units
    batches_per_second = stream_batches_per_second(model, target_tasks_per_second, batch_window_seconds)
    rates: list[KeyRate] = []
    for (index, key), units in per_task.items():
        if index == "table":
            rate = units / model.batches * batches_per_second
        else:
            rate = units / total_tasks * target_tasks_per_second / spread_of(index, shards)
        rates.append(KeyRate(index, key, rate))
    return sorted(rates, key=lambda rate: rate.units_per_second, reverse=True)


def sustainable_tasks_per_second(
    model: WriteModel, shards: ShardCounts, table_quota_units: int = 40_000
) -> float:
    """The most tasks a second before a listing key passes a partition's limit or the table its quota."""
    total_tasks = sum(model.tasks.values())
    per_task: Counter[tuple[str, str]] = Counter()
    for (index, partition), units in model.key_units.items():
        if index != "table":
            per_task[(index, logical_key(index, partition))] += units
    key_bound = min(
        (
            PARTITION_WRITE_UNITS_PER_SECOND * spread_of(index, shards) / (units / total_tasks)
            for (index, _), units in per_task.items()
        ),
        default=math.inf,
    )
    units_per_task = (
        sum(model.own_units_per_task(task_type) * count for task_type, count in model.tasks.items())
        / total_tasks
    )
    return min(key_bound, table_quota_units / units_per_task)


# The indexes a task's retry state moves it in, as its status does (app/adapters/task_listing.py).
STATUS_INDEXES = ("by_status", "by_type_status")


def retry_state_units(indexes: list[IndexKeys]) -> dict[str, int]:
    """Index units the retry filters add to a task, beyond the writes it makes anyway.

    A crashed attempt's write moves the task from IN_PROGRESS to RETRYING and
    the next claim moves it back: a delete and a put in each status index,
    each way. Giving up costs nothing more: the move to FAILED, which moves
    the task in the same indexes anyway, lands in GAVE_UP instead.
    """
    moved = sum(1 for index in indexes if index.name in STATUS_INDEXES)
    return {"crash_in": 2 * moved, "claim_out": 2 * moved, "gave_up": 0}


def indexes_of(global_secondary_indexes: list[dict[str, Any]]) -> list[IndexKeys]:
    """The index keys of a table's GlobalSecondaryIndexes, as serverless.yml declares them."""
    found = []
    for index in global_secondary_indexes:
        schema = {key["KeyType"]: key["AttributeName"] for key in index["KeySchema"]}
        found.append(IndexKeys(index["IndexName"], schema["HASH"], schema.get("RANGE")))
    return found


def table_rows(model: WriteModel, target: float, shards: ShardCounts, batch_window: float) -> list[str]:
    """The model as lines of text: units per task and per index, the hottest keys, the ceiling."""
    batches = stream_batches_per_second(model, target, batch_window)
    lines = [
        f"{'task type':<10} {'tasks':>5} {'WCU/task':>9}  (at {target:,.0f}/s)  the table and each index"
    ]
    for task_type in sorted(model.tasks):
        per_index = ", ".join(
            f"{name} {model.index_units_per_task(name, task_type):.1f}" for name in sorted(model.index_units)
        )
        base = model.base_units[task_type] / model.tasks[task_type]
        cost = model.units_per_task(task_type, batches, target)
        lines.append(
            f"{task_type:<10} {model.tasks[task_type]:>5} {cost:>9.1f}  table {base:.1f}, {per_index}"
        )
    per_batch = model.aggregate_units / model.batches
    lines.append(
        f"aggregates (counts, statistics, batch markers): {per_batch:.1f} WCU a stream batch; "
        f"{batches:,.0f} batches/s at {target:,.0f} tasks/s"
    )
    lines.append(f"hottest keys at {target:,.0f} tasks/s, shards {shards}:")
    for rate in hottest_keys(model, target, shards, batch_window)[:6]:
        lines.append(f"  {rate.index:<15} {rate.key:<32} {rate.units_per_second:>8,.0f} WCU/s")
    retries = retry_state_units([IndexKeys(name, "", None) for name in model.index_units])
    lines.append(
        f"retry states: a crashed attempt +{retries['crash_in'] + retries['claim_out']} WCU "
        f"({', '.join(STATUS_INDEXES)}: into RETRYING, out at the next claim); "
        f"giving up +{retries['gave_up']}"
    )
    ceiling = sustainable_tasks_per_second(model, shards)
    lines.append(
        f"largest sustainable rate: {ceiling:,.0f} tasks/s (a key's 1,000 WCU/s with these shards, "
        "or the table's default 40,000 WCU/s quota)"
    )
    return lines
