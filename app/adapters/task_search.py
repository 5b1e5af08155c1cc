"""A search's pages, newest first, from the search index's entries (app/adapters/search_index.py).

The words of a search are all required. The longest word drives
(app/domain/search.py driving_word): each shard of its partition is read
newest first, as a listing reads an index's shards, and merged the same way
(app/adapters/shard_merge.py), with the listing's signed page tokens. Entries
past their ``ttl`` and, with ``task_type``, entries of other types are
filtered out by the Query itself; each candidate left is checked against the
other words with one BatchGetItem of their entries (same shard, same sort key).

Cost of a page of ``p`` over ``s`` shards, in read units (eventually consistent,
0.5 per 4 KB read or per item got): the merge examines at most ``p + 2s``
entries of the driving word (a type-filtered search reads entries 100 at a
time) in at most ``s + 4`` Queries of a few KB each, 0.5 RCU per Query; each
other word costs 0.5 RCU per entry examined; then the page's tasks, as a
listing's (1 RCU per 4 KB of each task, consistent).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from app.adapters.aws import DynamoDBTable
from app.adapters.search_index import word_partition
from app.adapters.shard_merge import ShardRead
from app.adapters.sharding import ShardCounts
from app.adapters.task_listing import ListedPage, merged_page, page_bounds
from app.domain.errors import InvalidSearch
from app.domain.listing import TaskQuery
from app.domain.search import driving_word

# Entries a type-filtered read examines at once: filtered entries cost their bytes only.
FILTERED_READ = 100


def listing_id(query: TaskQuery) -> str:
    """What a search's page token is bound to: its words, type and created range."""
    return f"search|{' '.join(query.words)}|{query.task_type or ''}|{query.created_from}|{query.created_to}"


class SearchListing:
    """One search's pages: the driving word's shards, filtered, checked and merged newest first."""

    def __init__(self, table: DynamoDBTable, shards: ShardCounts, clock: Callable[[], float] = time.time):
        self.table = table
        self.shards = shards
        self.clock = clock

    def page(self, query: TaskQuery, page_token: str | None = None) -> ListedPage:
        if query.status is not None or query.retry_state is not None:
            raise InvalidSearch(
                "A search can't be combined with a status or retry_state filter: the index holds words, "
                "not statuses (search within a task type or a created range instead)"
            )
        listing = listing_id(query)
        bounds = page_bounds(query, listing, page_token)
        if bounds is None:
            return ListedPage([], None)
        below, low, high = bounds
        driver = driving_word(query.words)
        others = [word for word in query.words if word != driver]
        now = str(int(self.clock()))

        def read(shard: int, below: str | None, above: str | None, limit: int) -> ShardRead:
            partition = word_partition(driver, shard)
            names = {"#ttl": "ttl"}
            values = {
                ":p": {"S": partition},
                ":low": {"S": max(low, above) if above else low},
                ":high": {"S": high},
                ":now": {"N": now},
            }
            condition = "#ttl > :now"
            wanted = limit
            if query.task_type:
                condition += " AND task_type = :type"
                values[":type"] = {"S": query.task_type}
                limit = max(limit, FILTERED_READ)
            request: dict[str, Any] = {
                "TableName": self.table.table_name,
                "KeyConditionExpression": "pk = :p AND sk BETWEEN :low AND :high",
                "FilterExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
                "ProjectionExpression": "sk",
                "ScanIndexForward": False,
                "Limit": limit,
            }
            if below is not None:
                request["ExclusiveStartKey"] = {"pk": {"S": partition}, "sk": {"S": below}}
            response = self.table._call("query", **request)
            keys = [item["sk"]["S"] for item in response.get("Items", [])]
            last = response.get("LastEvaluatedKey", {}).get("sk", {}).get("S")
            examined = response.get("ScannedCount", len(keys))
            if others and len(keys) > wanted:
                # Only as many candidates as the merge asked for are checked for the other words
                # (a BatchGetItem each): the rest are read again, below the last one checked.
                keys, last = keys[:wanted], keys[wanted - 1]
            if others and keys:
                keys = self._with_every_word(keys, others, shard)
            return ShardRead(keys, limited=last is not None, last=last, examined=examined)

        return merged_page(listing, self.shards.search, query.limit, below, read)

    def _with_every_word(self, keys: list[str], words: list[str], shard: int) -> list[str]:
        """The candidates that have an entry for each of ``words`` too."""
        wanted = [
            {"pk": {"S": word_partition(word, shard)}, "sk": {"S": key}} for word in words for key in keys
        ]
        found = Counter(item["sk"]["S"] for item in self.table.batch_get(wanted, ProjectionExpression="sk"))
        return [key for key in keys if found[key] == len(words)]
