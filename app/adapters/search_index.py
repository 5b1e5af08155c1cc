"""The search index: one item of the table per word of a task, kept from the stream by ``changes``.

  entry   pk=SEARCH#<word>#<shard>   sk=<created ms, 13 digits>#<id>   task_type, ttl

The sort key is the listing indexes' ``list_sk``, so a word's tasks are one
Query newest first, a created range is a key condition, and a page is merged
across shards and paged with the listing's tokens (app/adapters/task_search.py).
The shard is the task's (a hash of its id among the search shards counted
when it was created, which its item keeps as ``search_shards``: the count
grows with ``targetTasksPerSecond``, and a word's entry must be deleted where
it was put), the same for each of its words. Entries carry the task's ``ttl``, so expiry cleans
them for free; they carry no index attribute and their ``sk`` is never
``TASK``, so they stay out of the GSIs and out of both stream readers' filters.

``changes`` writes them (workers/changes.py): per stream record, the words of
the old image and of the new (app/domain/search.py); words gone are deleted,
words come are put. An item written before the index existed (no
``search_shards``) has all of its entries put at each change, so its data's
words are indexed from its first change on. A batch's writes are collapsed to the last one per entry
and sent as BatchWriteItem puts and deletes keyed by word and task: the same
batch delivered again writes the same end state.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from app.adapters.aws import DynamoDBTable
from app.adapters.sharding import ShardCounts, shard_of
from app.adapters.task_item import SEARCH_SHARDS, TASK_SK
from app.adapters.task_listing import list_sort_key
from app.domain import search

PREFIX = "SEARCH#"
# BatchWriteItem calls in flight at once.
WRITERS = 8
# TTL's deletes: the task's entries expire on their own (same ttl), at no write cost.
TTL_PRINCIPAL = "dynamodb.amazonaws.com"

# A declared type's searchable data fields by its name ((): none, or a type no longer declared).
Searchable = Callable[[str], Sequence[str]]
EntryKey = tuple[str, str]


def partition(word: str, task_id: str, search_shards: int) -> str:
    return f"{PREFIX}{word}#{shard_of(task_id, search_shards)}"


def word_partition(word: str, shard: int) -> str:
    return f"{PREFIX}{word}#{shard}"


def entry_item(
    word: str, task_id: str, created_ms: int, task_type: str, ttl: int, search_shards: int
) -> dict[str, Any]:
    return {
        "pk": {"S": partition(word, task_id, search_shards)},
        "sk": {"S": list_sort_key(created_ms, task_id)},
        "task_type": {"S": task_type},
        "ttl": {"N": str(ttl)},
    }


def declared_searchable(task_type: str) -> Sequence[str]:
    from app.task_registry import task_types

    declared = task_types().get(task_type)
    return declared.searchable if declared else ()


def _json(image: dict[str, Any], name: str) -> Any:
    text = image.get(name, {}).get("S")
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None  # an unreadable value is found by nothing, and holds nothing up


def entries_of(
    image: dict[str, Any] | None, searchable: Searchable, shards: ShardCounts
) -> dict[EntryKey, dict[str, Any]]:
    """The index entries of a task item's image, by key (none for no image or another kind of item)."""
    if not image or image.get("sk", {}).get("S") != TASK_SK:
        return {}
    try:
        task_id = image["id"]["S"]
        task_type = image["task_type"]["S"]
        created_ms = int(image["created_ms"]["N"])
        ttl = int(image["ttl"]["N"])
        status = image["status"]["S"]
        search_shards = int(image.get(SEARCH_SHARDS, {}).get("N") or shards.search)
    except (KeyError, TypeError, ValueError):
        return {}  # a damaged item is indexed by nothing
    words = search.task_words(
        searchable(task_type),
        _json(image, "data"),
        status,
        image.get("status_msg", {}).get("S", ""),
        "retry_at" in image,
        _json(image, "result"),
    )
    entries = {}
    for word in sorted(words):
        item = entry_item(word, task_id, created_ms, task_type, ttl, search_shards)
        entries[(item["pk"]["S"], item["sk"]["S"])] = item
    return entries


def _expired_by_ttl(record: dict[str, Any]) -> bool:
    identity = record.get("userIdentity") or {}
    return record.get("eventName") == "REMOVE" and identity.get("principalId") == TTL_PRINCIPAL


def writes_of(
    records: list[dict[str, Any]], searchable: Searchable, shards: ShardCounts
) -> dict[EntryKey, dict[str, Any] | None]:
    """The batch's index writes, the last one per entry: its item to put, or None to delete it."""
    writes: dict[EntryKey, dict[str, Any] | None] = {}
    for record in records:
        if _expired_by_ttl(record):
            continue
        images = record.get("dynamodb", {})
        old = entries_of(images.get("OldImage"), searchable, shards)
        new = entries_of(images.get("NewImage"), searchable, shards)
        # Written before the index existed: none of its entries may be there yet.
        indexed_since_created = SEARCH_SHARDS in (images.get("NewImage") or {})
        for key in old.keys() - new.keys():
            writes[key] = None
        for key, item in new.items():
            # Unchanged entries are not written again, unless the task's ttl moved.
            if not indexed_since_created or key not in old or old[key] != item:
                writes[key] = item
    return writes


class SearchIndex(DynamoDBTable):
    """Writes the index entries that a batch of stream records calls for."""

    def __init__(
        self,
        table_name: str,
        shards: ShardCounts,
        dynamodb: Any = None,
        searchable: Searchable = declared_searchable,
    ):
        super().__init__(table_name, dynamodb)
        self.shards = shards
        self.searchable = searchable

    def apply(self, records: list[dict[str, Any]]) -> int:
        """Puts and deletes the entries the records call for; how many were written."""
        requests = [
            {"PutRequest": {"Item": item}}
            if item is not None
            else {"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}}}
            for (pk, sk), item in writes_of(records, self.searchable, self.shards).items()
        ]
        # A stream batch of 1,000 new tasks is up to 640 calls: 8 at a time, within the function's timeout.
        self.batch_write(requests, "search entries", at_once=WRITERS)
        return len(requests)
