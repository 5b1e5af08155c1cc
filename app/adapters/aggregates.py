"""Counts and per-minute statistics of tasks, kept in the tasks table and read in O(1).

Items (none carries a listing-index attribute or ``sk = TASK``, so they stay
out of the indexes and of every stream consumer's filter), each its own
partition, so that every batch's writes spread over as many keys as it touches:

  counts          pk=COUNTS#<type>#<k>              one number per status, and created_total;
                                                    RETRYING and GAVE_UP: how many of the IN_PROGRESS
                                                    and FAILED ones are in that retry state
  per minute      pk=STATS#<type>#M#<minute>#<k>    created/completed/failed/cancelled,
  per hour        pk=STATS#<type>#H#<hour>#<k>      W<i>/R<i>: wait and run histograms;
                                                    per hour F<h>/T<h>: a failure message's
                                                    count and text (h: a hash of the text)
  applied batch   pk=APPLIED#<first sequence number>  the last sequence number applied
(sk is the item's kind: COUNTS, STATS or BATCH.)

The ``changes`` function writes them from the table's stream, one transaction
per batch of changes (every aggregate item of the batch, and the batch's
marker): a batch Lambda delivers again is recognised by its marker and not
counted twice, so the counts stay exact. ``k`` spreads the writes over
``counter_shards`` copies (summed on read) should one item's write rate
approach a partition's limit; one is plenty at 10,000 tasks/s (docs/deploy.md).
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable
from typing import Any

from app.adapters import aws
from app.adapters.update_expression import Update
from app.domain.aggregates import Deltas, MinuteStats, bucket_of, status_breakdown
from app.domain.errors import StoreUnavailable
from app.domain.task import RetryState, TaskStatus
from app.services.ports import StatusCount, Tally
from app.task_registry import names as task_type_names

MINUTE_ITEMS_KEPT_SECONDS = 2 * 86_400
HOUR_ITEMS_KEPT_SECONDS = 35 * 86_400
MARKERS_KEPT_SECONDS = 2 * 86_400  # longer than a stream keeps a record (24 h)
TRANSACT_LIMIT = 100
# The numbers a counts item holds beside created_total: per status, and per retry state (its name).
COUNTED = (*(status.value for status in TaskStatus), RetryState.RETRYING.name, RetryState.GAVE_UP.name)


def counter_shard(first_sequence: str, counter_shards: int) -> int:
    return zlib.crc32(first_sequence.encode()) % counter_shards


def counts_key(task_type: str, shard: int) -> dict[str, Any]:
    return {"pk": {"S": f"COUNTS#{task_type}#{shard}"}, "sk": {"S": "COUNTS"}}


def stats_key(task_type: str, unit: str, moment: int, shard: int) -> dict[str, Any]:
    return {"pk": {"S": f"STATS#{task_type}#{unit}#{moment:010d}#{shard}"}, "sk": {"S": "STATS"}}


# The histograms' first buckets (until 2026-12) had these upper bounds (ms), as w<i>/r<i>:
# items written then are read as if each task took its bucket's upper bound.
COARSE_BOUNDS_MS = (
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


def message_hash(message: str) -> str:
    return f"{zlib.crc32(message.encode()):08x}"


def _stats_fields(stats: MinuteStats, *, with_failures: bool) -> dict[str, int]:
    fields = {
        name: getattr(stats, name)
        for name in ("created", "completed", "failed", "cancelled")
        if getattr(stats, name)
    }
    fields.update({f"W{bucket}": count for bucket, count in stats.wait.items() if count})
    fields.update({f"R{bucket}": count for bucket, count in stats.run.items() if count})
    if with_failures:
        fields.update({f"F{message_hash(m)}": count for m, count in stats.failures.items() if count})
    return fields


def _coarse_bucket(index: int) -> int:
    """Where a task of an old coarse bucket falls now (its last bucket was open: twice its bound)."""
    bound = COARSE_BOUNDS_MS[index] if index < len(COARSE_BOUNDS_MS) else COARSE_BOUNDS_MS[-1] * 2
    return bucket_of(bound)


def _stats_of(item: dict[str, Any]) -> MinuteStats:
    def number(name: str) -> int:
        return int(item.get(name, {}).get("N", "0"))

    stats = MinuteStats(number("created"), number("completed"), number("failed"), number("cancelled"))
    for name, value in item.items():
        kind, rest = name[:1], name[1:]
        if kind in ("W", "R") and rest.isdigit():
            (stats.wait if kind == "W" else stats.run)[int(rest)] += int(value["N"])
        elif kind in ("w", "r") and rest.isdigit():
            (stats.wait if kind == "w" else stats.run)[_coarse_bucket(int(rest))] += int(value["N"])
        elif kind == "F" and f"T{rest}" in item:
            stats.failures[item[f"T{rest}"]["S"]] += int(value["N"])
    return stats


class TaskAggregates(aws.DynamoDBTable):
    def __init__(self, table_name: str, dynamodb: Any = None, counter_shards: int | None = None):
        super().__init__(table_name, dynamodb)
        self._counter_shards = counter_shards

    @property
    def counter_shards(self) -> int:
        if self._counter_shards is None:
            from app.settings import get_settings

            self._counter_shards = get_settings().counter_shards
        return self._counter_shards

    # --- writing ------------------------------------------------------------------------

    def transaction_items(self, deltas: Deltas, first_sequence: str, now: float) -> list[dict[str, Any]]:
        """The updates that add ``deltas``: one per counts item and per minute and hour item."""
        shard = counter_shard(first_sequence, self.counter_shards)
        updates: list[dict[str, Any]] = []
        per_type: dict[str, dict[str, int]] = {}
        for (task_type, status), delta in deltas.counts.items():
            per_type.setdefault(task_type, {})[status] = delta
        for task_type, created in deltas.created.items():
            per_type.setdefault(task_type, {})["created_total"] = created
        for task_type, fields in per_type.items():
            updates.append(self._update(counts_key(task_type, shard), fields, expires=None))
        hours: dict[tuple[str, int], MinuteStats] = {}
        minute_expiry, hour_expiry = int(now) + MINUTE_ITEMS_KEPT_SECONDS, int(now) + HOUR_ITEMS_KEPT_SECONDS
        for (task_type, minute), stats in deltas.minutes.items():
            key = stats_key(task_type, "M", minute, shard)
            updates.append(self._update(key, _stats_fields(stats, with_failures=False), minute_expiry))
            hours.setdefault((task_type, minute // 3600 * 3600), MinuteStats()).add(stats)
        for (task_type, hour), stats in hours.items():
            texts = {f"T{message_hash(message)}": message for message in stats.failures}
            fields = _stats_fields(stats, with_failures=True)
            updates.append(self._update(stats_key(task_type, "H", hour, shard), fields, hour_expiry, texts))
        return updates

    def _update(
        self,
        key: dict[str, Any],
        fields: dict[str, int],
        expires: int | None,
        texts: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Adds ``fields`` to the item, sets its expiry, and keeps the first text of each name given."""
        update = Update()
        for name, delta in sorted(fields.items()):
            update.add(name, delta)
        if expires is not None:
            update.set("ttl", {"N": str(expires)})
        for name, text in sorted((texts or {}).items()):
            update.set_if_absent(name, {"S": text})
        return {"Update": {"TableName": self.table_name, "Key": key, **update.arguments()}}

    def applied_through(self, first_sequence: str) -> int | None:
        """The last sequence number applied of a batch that began at ``first_sequence``; None if none was."""
        response = self._call(
            "get_item",
            TableName=self.table_name,
            Key={"pk": {"S": f"APPLIED#{first_sequence}"}, "sk": {"S": "BATCH"}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return int(item["last_sequence"]["N"]) if item else None

    def apply(
        self, updates: list[dict[str, Any]], first_sequence: str, last_sequence: str,
        applied_before: int | None, now: float,
    ) -> bool:  # fmt: skip
        """Write ``updates`` and the batch's marker in one transaction; False if its marker said no."""
        marker_key = {"pk": {"S": f"APPLIED#{first_sequence}"}, "sk": {"S": "BATCH"}}
        values: dict[str, Any] = {
            ":last": {"N": last_sequence},
            ":ttl": {"N": str(int(now) + MARKERS_KEPT_SECONDS)},
        }
        condition = "attribute_not_exists(pk)"
        if applied_before is not None:
            condition = "last_sequence = :before"
            values[":before"] = {"N": str(applied_before)}
        marker = {
            "Update": {
                "TableName": self.table_name,
                "Key": marker_key,
                "UpdateExpression": "SET last_sequence = :last, #ttl = :ttl",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#ttl": "ttl"},
                "ExpressionAttributeValues": values,
            }
        }
        try:
            self._call("transact_write_items", TransactItems=[marker, *updates])
        except StoreUnavailable as exc:
            response = getattr(exc.__cause__, "response", None) or {}
            reasons = response.get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False  # the marker says this batch was applied already
            raise
        return True

    # --- reading: O(1), one BatchGetItem --------------------------------------------------

    def _get(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self.batch_get(keys)

    def _count_keys(self, task_type: str | None) -> list[dict[str, Any]]:
        types = [task_type] if task_type else task_type_names()
        return [counts_key(name, shard) for shard in range(self.counter_shards) for name in types]

    @staticmethod
    def _add_counts(items: list[dict[str, Any]]) -> tuple[Counter[str], int]:
        by_status: Counter[str] = Counter()
        created = 0
        for item in items:
            for name in COUNTED:
                by_status[name] += int(item.get(name, {}).get("N", "0"))
            created += int(item.get("created_total", {}).get("N", "0"))
        return by_status, created

    def counts(self, task_type: str | None = None) -> tuple[Counter[str], int]:
        """Tasks in each status and retry state (by name), of one type or all; how many were ever created."""
        return self._add_counts(self._get(self._count_keys(task_type)))

    def by_status(self, task_type: str | None = None) -> list[StatusCount]:
        """The dashboard's StatusCounter: exact counts, never capped."""
        counted, _ = self.counts(task_type)
        return [StatusCount(status, max(0, counted[status.value])) for status in TaskStatus]

    def tally(self, task_type: str | None = None, task_ids: Iterable[str] = ()) -> Tally:
        """The counts and the tasks named, in one BatchGetItem (the dashboard's live tick)."""
        from app.adapters.task_item import from_item, task_key

        wanted = list(dict.fromkeys(task_ids))
        items = self._get([*self._count_keys(task_type), *(task_key(task_id) for task_id in wanted)])
        counted, created = self._add_counts([item for item in items if item["pk"]["S"].startswith("COUNTS#")])
        found = {task.id: task for task in (from_item(item) for item in items if item["sk"]["S"] == "TASK")}
        counts = [
            StatusCount(status, count, retry_state=state)
            for status, state, count in status_breakdown(counted)
        ]
        return Tally(counts, created, {task_id: found.get(task_id) for task_id in wanted})

    def series(self, task_type: str, unit: str, start: int, end: int) -> dict[int, MinuteStats]:
        """The stats of each minute ("M") or hour ("H") from ``start`` to ``end`` (epoch seconds)."""
        return self.series_many([(task_type, unit, start, end)])[(task_type, unit)]

    def series_many(
        self, requests: list[tuple[str, str, int, int]]
    ) -> dict[tuple[str, str], dict[int, MinuteStats]]:
        """Several series (task type, unit, start, end) in one BatchGetItem per 100 keys (the stats page)."""
        keys: list[dict[str, Any]] = []
        found: dict[tuple[str, str], dict[int, MinuteStats]] = {}
        for task_type, unit, start, end in requests:
            step = 60 if unit == "M" else 3600
            moments = range(start // step * step, end // step * step + step, step)
            keys += [
                stats_key(task_type, unit, moment, k)
                for k in range(self.counter_shards)
                for moment in moments
            ]
            found[(task_type, unit)] = {moment: MinuteStats() for moment in moments}
        for item in self._get(keys):
            _, task_type, unit, moment, _shard = item["pk"]["S"].split("#")
            found[(task_type, unit)][int(moment)].add(_stats_of(item))
        return found
