"""Listing tasks newest first from write-sharded global secondary indexes.

Every listing index is keyed ``<what>#<shard>`` and sorted by ``list_sk`` =
``<created ms, 13 digits>#<id>`` (newest first is a reverse Query, a created
range is a key condition, and the id breaks ties):

  by_created      created_pk      "ALL#<shard>"
  by_type         type_pk         "<type>#<shard>"
  by_status       status_pk       "<status>#<shard>"
  by_type_status  type_status_pk  "<type>#<status>#<shard>"

In the two status indexes a task between attempts is listed under RETRYING,
and one that gave up under GAVE_UP, instead of its status (``listed_status``):
a Query serves the retry filters exactly, and one for IN_PROGRESS or FAILED
reads both of its partitions (twice the shards). A crash and the claim after
it move two index entries each; giving up moves nothing more than failing.

The shard is a hash of the task id among the index's shard count
(app/adapters/sharding.py). The indexes project keys only, so a task's progress,
lease and messages never rewrite an index entry: only a status change moves
two of them. A page Queries every shard of the one index that serves the
filters exactly, merges them (app/adapters/shard_merge.py) and reads the tasks
of the page in one BatchGetItem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.adapters import page_tokens
from app.adapters.shard_merge import Read, ShardRead, merge_newest
from app.adapters.sharding import ShardCounts, shard_of
from app.domain.errors import InvalidPageToken
from app.domain.listing import TaskQuery
from app.domain.task import RetryState, Task, TaskStatus

LOWEST_SORT_KEY = "0" * 13
HIGHEST_SORT_KEY = "9" * 13 + "~"
# Shards queried at once for one page.
MAX_PARALLEL_READS = 16


@dataclass(frozen=True)
class ListingIndex:
    name: str
    partition_attr: str

    def partition(self, prefix: str, shard: int) -> str:
        return f"{prefix}#{shard}"


BY_CREATED = ListingIndex("by_created", "created_pk")
BY_TYPE = ListingIndex("by_type", "type_pk")
BY_STATUS = ListingIndex("by_status", "status_pk")
BY_TYPE_STATUS = ListingIndex("by_type_status", "type_status_pk")
LISTING_INDEXES = (BY_CREATED, BY_TYPE, BY_STATUS, BY_TYPE_STATUS)
ALL_TASKS = "ALL"


# The retry states that have a partition of their own in the status indexes (named RETRYING, GAVE_UP).
LISTED_RETRY_STATES = (RetryState.RETRYING, RetryState.GAVE_UP)


def listed_status(task: Task) -> str:
    """What a task is listed under in the status indexes: its retry state's name, or its status."""
    state = task.retry_state
    return state.name if state else task.status.value


def listed_statuses(status: TaskStatus | None, retry_state: RetryState | None) -> list[str]:
    """The status partitions that hold a query's tasks (none when no task can match).

    A status's own partition, and its retry state's unless NONE excludes it;
    a retry state's own; NONE without a status: every status's own partition.
    """
    if retry_state in LISTED_RETRY_STATES:
        return [retry_state.name] if status in (None, retry_state.status) else []
    statuses = [status] if status else list(TaskStatus)
    own = [each.value for each in statuses]
    if retry_state is None:
        own += [state.name for state in LISTED_RETRY_STATES if state.status in statuses]
    return own


def list_sort_key(created_ms: int, task_id: str) -> str:
    return f"{created_ms:013d}#{task_id}"


def index_keys(task_id: str, task_type: str, status: str, shards: ShardCounts) -> dict[str, Any]:
    """Every listing index's partition key of a task, as item attributes."""
    prefixes = {
        BY_CREATED: ALL_TASKS,
        BY_TYPE: task_type,
        **status_prefixes(task_type, status),
    }
    return {
        index.partition_attr: {"S": index.partition(prefix, shard_of(task_id, shards.of(index.name)))}
        for index, prefix in prefixes.items()
    }


def status_prefixes(task_type: str, status: str) -> dict[ListingIndex, str]:
    return {BY_STATUS: status, BY_TYPE_STATUS: f"{task_type}#{status}"}


def status_keys(task_id: str, task_type: str, status: str, shards: ShardCounts) -> dict[str, Any]:
    """The partition keys that move when a task's status changes."""
    return {
        index.partition_attr: {"S": index.partition(prefix, shard_of(task_id, shards.of(index.name)))}
        for index, prefix in status_prefixes(task_type, status).items()
    }


def choose_index(query: TaskQuery) -> tuple[ListingIndex, list[str]]:
    """The index that serves ``query`` exactly, and its partition prefixes (one, or a status's two)."""
    if query.status or query.retry_state:
        statuses = listed_statuses(query.status, query.retry_state)
        if query.task_type:
            return BY_TYPE_STATUS, [f"{query.task_type}#{listed}" for listed in statuses]
        return BY_STATUS, statuses
    if query.task_type:
        return BY_TYPE, [query.task_type]
    return BY_CREATED, [ALL_TASKS]


def listing_id(query: TaskQuery) -> str:
    """What a page token is bound to: the index, the query's partition and the created range."""
    index, prefixes = choose_index(query)
    # The first prefix (a status's own) names it, as before the retry states; a filter on them adds its own.
    first = prefixes[0] if prefixes else query.status
    named = first if query.retry_state is None else f"{first}~{query.retry_state.value}"
    return f"{index.name}|{named}|{query.created_from}|{query.created_to}"


def sort_range(query: TaskQuery) -> tuple[str, str]:
    low = LOWEST_SORT_KEY if query.created_from is None else f"{query.created_from * 1000:013d}"
    high = HIGHEST_SORT_KEY if query.created_to is None else f"{query.created_to * 1000 + 999:013d}~"
    return low, high


@dataclass(frozen=True)
class ListedPage:
    task_ids: list[str]
    next_token: str | None


class ShardedListing:
    """One listing's pages: Queries on every shard of its index, merged newest first."""

    def __init__(self, call: Callable[..., Any], table_name: str, shards: ShardCounts):
        self.call = call
        self.table_name = table_name
        self.shards = shards

    def page(self, query: TaskQuery, page_token: str | None = None) -> ListedPage:
        index, prefixes = choose_index(query)
        # Every shard of every prefix, merged as one: a task is in one of them at a time.
        partitions = [
            index.partition(prefix, shard)
            for prefix in prefixes
            for shard in range(self.shards.of(index.name))
        ]
        listing = listing_id(query)
        bounds = page_bounds(query, listing, page_token)
        if bounds is None or not partitions:
            return ListedPage([], None)  # created_from after created_to, or a status no retry filter fits
        below, low, high = bounds

        def read(shard: int, below: str | None, above: str | None, limit: int) -> ShardRead:
            partition = partitions[shard]
            request: dict[str, Any] = {
                "TableName": self.table_name,
                "IndexName": index.name,
                "KeyConditionExpression": "#p = :p AND list_sk BETWEEN :low AND :high",
                "ExpressionAttributeNames": {"#p": index.partition_attr},
                "ExpressionAttributeValues": {
                    ":p": {"S": partition},
                    # ``above`` is another shard's key: never one of this shard's.
                    ":low": {"S": max(low, above) if above else low},
                    ":high": {"S": high},
                },
                "ScanIndexForward": False,
                "Limit": limit,
            }
            if below is not None:
                # A position, not necessarily an entry of this shard: the page starts below it.
                task_id = below.split("#", 1)[1]
                request["ExclusiveStartKey"] = {
                    "pk": {"S": f"TASK#{task_id}"},
                    "sk": {"S": "TASK"},
                    index.partition_attr: {"S": partition},
                    "list_sk": {"S": below},
                }
            response = self.call("query", **request)
            keys = [item["list_sk"]["S"] for item in response.get("Items", [])]
            return ShardRead(keys, limited="LastEvaluatedKey" in response)

        # Sized for one prefix's shards: a retry state's partitions hold few tasks beside its status's.
        return merged_page(listing, len(partitions), query.limit, below, read, self.shards.of(index.name))


def page_bounds(query: TaskQuery, listing: str, page_token: str | None) -> tuple[str | None, str, str] | None:
    """Where a page of ``listing`` starts (its token's position, if any) and the sort keys of the
    query's created range; None when the range is empty. A token outside the range is refused."""
    below = page_tokens.decode(page_token, listing) if page_token else None
    low, high = sort_range(query)
    if low > high:
        return None
    if below is not None and not low <= below <= high:
        raise InvalidPageToken()
    return below, low, high


def merged_page(
    listing: str, shards: int, limit: int, below: str | None, read: Read, sized_for: int | None = None
) -> ListedPage:
    """The newest ``limit`` tasks below ``below`` across ``shards`` shards, and the next page's token."""
    merged = merge_newest(shards, limit, below, concurrently(read), sized_for=sized_for)
    next_token = page_tokens.encode(listing, merged.next_below) if merged.next_below else None
    return ListedPage([key.split("#", 1)[1] for key in merged.keys], next_token)


def concurrently(read: Read):
    def read_all(requests: list[tuple[int, str | None, str | None, int]]) -> list[ShardRead]:
        if len(requests) == 1:
            return [read(*requests[0])]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_READS, len(requests))) as pool:
            return list(pool.map(lambda request: read(*request), requests))

    return read_all
