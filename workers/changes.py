"""The table's stream -> the task counts and per-minute statistics (app/adapters/aggregates.py),
and the search index's entries (app/adapters/search_index.py).

The second (and last: DynamoDB advises at most two readers of a stream
shard) consumer of the stream, beside the publisher. Its filter lets through
task items only; a batch's changes become deltas (app/domain/aggregates.py),
written in one transaction per chunk of the batch with the chunk's marker, so
each aggregate item is written once per batch rather than once per task, and
a chunk Lambda delivers again is never counted twice. No partial batch
responses and no bisecting: a chunk applies whole or not at all, and a retry
starts from the same record.
"""

from __future__ import annotations

import time
from typing import Any

from app import observability
from app.adapters.aggregates import TRANSACT_LIMIT, TaskAggregates
from app.adapters.search_index import SearchIndex
from app.adapters.sharding import ShardCounts
from app.adapters.task_item import TASK_SK
from app.adapters.task_listing import LISTED_RETRY_STATES
from app.domain.aggregates import TaskChange, TaskFacts, deltas_of
from app.domain.task import RetryState, retry_state_of
from app.settings import get_settings


def _counted_retry_state(image: dict[str, Any], status: str, retry_at: int | None) -> RetryState | None:
    """The retry state a task item is listed under (its by_status partition): what its filter lists is
    what is counted. A task that was between attempts when this release came was listed, and counted,
    as IN_PROGRESS by the code before it: judged by its retry_at, it would leave RETRYING uncounted and
    drift the counts for good. An image without the key (never written by the store) goes by the rule."""
    listed = image.get("status_pk", {}).get("S")
    if listed is None:
        return retry_state_of(status, retry_at, image.get("gave_up", {}).get("BOOL") is True)
    prefix = listed.rsplit("#", 1)[0]
    return next((state for state in LISTED_RETRY_STATES if state.name == prefix), None)


def _facts(image: dict[str, Any] | None) -> TaskFacts | None:
    if not image:
        return None

    def number(name: str) -> int | None:
        value = image.get(name, {}).get("N")
        return int(value) if value is not None else None

    try:
        status = image["status"]["S"]
        return TaskFacts(
            task_type=image["task_type"]["S"],
            status=status,
            created_ms=number("created_ms") or 0,
            started_ms=number("started_ms"),
            finished_ms=number("finished_ms"),
            status_msg=image.get("status_msg", {}).get("S", ""),
            retry_state=_counted_retry_state(image, status, number("retry_at")),
        )
    except (KeyError, TypeError, ValueError):
        # A damaged item counts as nothing: it must never hold up the stream.
        observability.get_logger().error("task item without type or status", extra={"keys": image.get("pk")})
        return None


def change_of(record: dict[str, Any]) -> TaskChange:
    images = record["dynamodb"]
    if images.get("Keys", {}).get("sk", {}).get("S") != TASK_SK:
        return TaskChange(old=None, new=None)  # not a task item: the filter keeps these out
    return TaskChange(old=_facts(images.get("OldImage")), new=_facts(images.get("NewImage")))


def _touched(change: TaskChange) -> set[tuple[Any, ...]]:
    """The aggregate items one change adds to."""
    deltas = deltas_of([change])
    touched: set[tuple[Any, ...]] = {("counts", task_type) for task_type, _ in deltas.counts}
    touched |= {("counts", task_type) for task_type in deltas.created}
    for task_type, minute in deltas.minutes:
        touched |= {("minute", task_type, minute), ("hour", task_type, minute // 3600)}
    return touched


def chunks(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The records in order, cut before one more would need more items than a transaction takes.

    Deterministic: a batch delivered again is cut the same way, whatever was appended to it.
    """
    cut: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    touched: set[tuple[Any, ...]] = set()
    for record in records:
        more = _touched(change_of(record))
        # One item of the transaction is the chunk's marker.
        if current and len(touched | more) + 1 > TRANSACT_LIMIT:
            cut.append(current)
            current, touched = [], set()
        current.append(record)
        touched |= more
    if current:
        cut.append(current)
    return cut


def _sequence(record: dict[str, Any]) -> int:
    return int(record["dynamodb"]["SequenceNumber"])


def apply_changes(records: list[dict[str, Any]], aggregates: TaskAggregates, now: float) -> dict[str, int]:
    """Add a batch's changes to the aggregates, exactly once; how many records were applied and skipped."""
    applied = skipped = 0
    for chunk in chunks(records):
        first = chunk[0]["dynamodb"]["SequenceNumber"]
        last = chunk[-1]["dynamodb"]["SequenceNumber"]
        fresh, done, counted = chunk, None, 0
        while fresh:
            items = aggregates.transaction_items(deltas_of([change_of(r) for r in fresh]), first, now)
            if aggregates.apply(items, first, last, done, now):
                counted = len(fresh)
                break
            # Delivered before, at least in part: count only what comes after its marker.
            applied_through = aggregates.applied_through(first)
            if applied_through == done:
                break  # another delivery of this chunk is writing it now
            done = applied_through
            fresh = [record for record in chunk if done is None or _sequence(record) > done]
        applied += counted
        skipped += len(chunk) - counted
    return {"applied": applied, "skipped": skipped}


@observability.lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    records = event.get("Records", [])
    table_name = get_settings().table_name
    # The search index first: its writes are idempotent, so a batch that fails after them
    # (the aggregates' transaction) and is delivered again writes them again, harmlessly.
    shards = ShardCounts.for_rate(get_settings().target_tasks_per_second)
    indexed = SearchIndex(table_name, shards).apply(records)
    outcome = {**apply_changes(records, TaskAggregates(table_name), time.time()), "indexed": indexed}
    if outcome["skipped"]:
        observability.get_logger().info("changes already counted were skipped", extra=outcome)
    return outcome
