"""Query answered from sorted indexes, not by reading the whole table.

Replaces ``moto.dynamodb.models.table.Table.query``, which evaluates every item
of the table for every Query (a page of 20 took ~350 ms with 5,000 tasks),
even on the base table. DynamoDB reads only the partition, from the sort key
onwards; so does this:

- each global secondary index with a hash and a range key keeps, per
  partition value, a list sorted by (index range key, table hash key, table
  range key), maintained by the change hooks on every write;
- a base-table Query sorts only its own partition's items.

A key condition narrows the list by bisection, ``ExclusiveStartKey`` too, and
the walk stops at ``Limit`` items or 1 MB, so a page costs the page. Results
(ScannedCount, LastEvaluatedKey, projections, filters) follow moto's own
query. Shapes this does not index (multi-attribute keys, index without a
range key, the legacy QueryFilter) fall back to moto's query.
"""

from __future__ import annotations

import bisect
import copy
import functools
from collections.abc import Callable
from typing import Any

from app.local.moto_patches import change_hooks

# What the patch is for (docs/local.md): correctness, missing feature, memory or speed.
PURPOSE = "speed"

RESULT_SIZE_LIMIT = 1_000_000  # moto's (and DynamoDB's) 1 MB per page

# An entry: (index range value, table hash value, table range value, hash key, range key).
# The first three are plain Python values that sort as DynamoDB sorts; they are
# unique per item, so the DynamoType keys after them are never compared.
Entry = tuple[Any, Any, Any, Any, Any]


def _plain(value: Any) -> Any:
    return None if value is None else value.cast_value


class _GsiIndex:
    def __init__(self, name: str, hash_attr: str, range_attr: str):
        self.name = name
        self.hash_attr = hash_attr
        self.range_attr = range_attr
        self.partitions: dict[Any, list[Entry]] = {}

    def entry_of(self, item: Any) -> tuple[Any, Entry] | None:
        partition = item.attrs.get(self.hash_attr)
        sort = item.attrs.get(self.range_attr)
        # DynamoDB indexes only items that carry every key attribute of the index.
        if not partition or not sort:
            return None
        entry = (
            sort.cast_value,
            _plain(item.hash_key),
            _plain(item.range_key),
            item.hash_key,
            item.range_key,
        )
        return partition.cast_value, entry

    def add(self, partition: Any, entry: Entry) -> None:
        bisect.insort(self.partitions.setdefault(partition, []), entry, key=_sort_key)

    def remove(self, partition: Any, entry: Entry) -> None:
        entries = self.partitions.get(partition)
        if not entries:
            return
        position = bisect.bisect_left(entries, _sort_key(entry), key=_sort_key)
        if position < len(entries) and _sort_key(entries[position]) == _sort_key(entry):
            del entries[position]
        if not entries:
            del self.partitions[partition]


def _sort_key(entry: Entry) -> tuple[Any, Any, Any]:
    return entry[:3]


class _TableIndex:
    """The sorted GSIs of one table, and where each item sits in them."""

    def __init__(self, table: Any):
        self.signature = _signature(table)
        self.gsis = {
            index.name: _GsiIndex(index.name, *_hash_and_range(index.schema)) for index in _indexable(table)
        }
        self.placed: dict[tuple[Any, Any], list[tuple[_GsiIndex, Any, Entry]]] = {}
        for item in table.all_items():
            self.update(item.hash_key, item.range_key, item)

    def update(self, hash_key: Any, range_key: Any, item: Any) -> None:
        primary = (_plain(hash_key), _plain(range_key))
        for gsi, partition, entry in self.placed.pop(primary, []):
            gsi.remove(partition, entry)
        if item is None:
            return
        placed = []
        for gsi in self.gsis.values():
            found = gsi.entry_of(item)
            if found is not None:
                gsi.add(*found)
                placed.append((gsi, *found))
        if placed:
            self.placed[primary] = placed


def _hash_and_range(schema: list[dict[str, str]]) -> tuple[str, str]:
    (hash_attr,) = [key["AttributeName"] for key in schema if key["KeyType"] == "HASH"]
    (range_attr,) = [key["AttributeName"] for key in schema if key["KeyType"] == "RANGE"]
    return hash_attr, range_attr


def _indexable(table: Any) -> list[Any]:
    def simple(schema: list[dict[str, str]]) -> bool:
        kinds = [key["KeyType"] for key in schema]
        return kinds.count("HASH") == 1 and kinds.count("RANGE") == 1

    return [index for index in table.global_indexes if simple(index.schema)]


def _signature(table: Any) -> tuple[Any, ...]:
    return tuple((index.name, repr(index.schema)) for index in table.global_indexes)


def index_of(table: Any) -> _TableIndex:
    """The table's index, built from its items on first use or when its GSIs changed."""
    index = getattr(table, "_sorted_index", None)
    if index is None or index.signature != _signature(table):
        index = _TableIndex(table)
        table._sorted_index = index
    return index


def forget(table: Any) -> None:
    """Drop the index; it is rebuilt from the items on the next Query (after a bulk load)."""
    table._sorted_index = None


def _on_change(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    index = getattr(table, "_sorted_index", None)
    if index is not None:
        index.update(hash_key, range_key, item)


# --- narrowing a sorted list by a key condition ---------------------------------------


def _window(
    entries: list[Any], key: Callable[[Any], Any], comparison: str | None, values: list[Any]
) -> range:
    """Positions of ``entries`` (sorted by ``key``) that may satisfy the key condition."""
    low, high = 0, len(entries)
    if comparison is None:
        return range(low, high)
    op = comparison.upper()
    first = values[0] if values else None
    if op in ("=", "EQ"):
        low, high = bisect.bisect_left(entries, first, key=key), bisect.bisect_right(entries, first, key=key)
    elif op in ("<", "LT"):
        high = bisect.bisect_left(entries, first, key=key)
    elif op in ("<=", "LE"):
        high = bisect.bisect_right(entries, first, key=key)
    elif op in (">", "GT"):
        low = bisect.bisect_right(entries, first, key=key)
    elif op in (">=", "GE"):
        low = bisect.bisect_left(entries, first, key=key)
    elif op == "BETWEEN":
        low, high = (
            bisect.bisect_left(entries, first, key=key),
            bisect.bisect_right(entries, values[1], key=key),
        )
    elif op == "BEGINS_WITH" and isinstance(first, str):
        # Cutting sorted strings to a prefix's length keeps them sorted.
        def prefix(entry: Any) -> Any:
            return key(entry)[: len(first)]

        low, high = (
            bisect.bisect_left(entries, first, key=prefix),
            bisect.bisect_right(entries, first, key=prefix),
        )
    return range(low, max(low, high))


def _walk(
    table: Any,
    positions: range,
    item_at: Callable[[int], Any],
    after_start: Callable[[int], bool],
    comparison: str | None,
    range_objs: list[Any],
    range_attr: str,
    limit: int | None,
    index_name: str | None,
) -> tuple[list[Any], int, dict[str, Any] | None]:
    """Examine items in order, as moto's query does: up to ``limit`` items or 1 MB."""
    results: list[Any] = []
    size = 0
    last_evaluated_key = None
    for position in positions:
        if not after_start(position):
            continue
        item = item_at(position)
        if item is None:
            continue
        if comparison is not None:
            value = item.attrs.get(range_attr) if index_name else item.range_key
            if value is None or not value.compare(comparison.upper(), range_objs):
                continue
        if (limit is not None and len(results) == limit) or size + item.size() > RESULT_SIZE_LIMIT:
            last_evaluated_key = table._get_last_evaluated_key(results[-1], index_name)
            break
        results.append(item)
        size += item.size()
    return results, len(results), last_evaluated_key


def _start_position(
    entries: list[Any], key: Callable[[Any], Any], start: tuple[Any, ...] | None, forward: bool
) -> Callable[[int], bool]:
    if start is None:
        return lambda position: True
    if forward:
        first = bisect.bisect_right(entries, start, key=key)
        return lambda position: position >= first
    last = bisect.bisect_left(entries, start, key=key)
    return lambda position: position < last


def _plain_key(attributes: dict[str, Any] | None, name: str | None) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType

    if not name or not attributes or name not in attributes:
        return None
    return DynamoType(attributes[name]).cast_value


def _gsi_query(
    table: Any,
    gsi: _GsiIndex,
    partition_value: Any,
    range_comparison: str | None,
    range_objs: list[Any],
    limit: int | None,
    exclusive_start_key: dict[str, Any] | None,
    forward: bool,
) -> tuple[list[Any], int, dict[str, Any] | None]:
    entries = gsi.partitions.get(partition_value.cast_value, [])
    window = _window(entries, lambda e: e[0], range_comparison, [obj.cast_value for obj in range_objs])
    start = None
    if exclusive_start_key:
        start = (
            _plain_key(exclusive_start_key, gsi.range_attr),
            _plain_key(exclusive_start_key, table.hash_key_attr),
            _plain_key(exclusive_start_key, table.range_key_attr),
        )
    after_start = _start_position(entries, _sort_key, start, forward)
    positions = window if forward else range(window.stop - 1, window.start - 1, -1)

    def item_at(position: int) -> Any:
        entry = entries[position]
        return table.get_item(entry[3], entry[4])

    return _walk(
        table, positions, item_at, after_start, range_comparison, range_objs, gsi.range_attr, limit, gsi.name
    )


def _base_query(
    table: Any,
    hash_key: Any,
    range_comparison: str | None,
    range_objs: list[Any],
    limit: int | None,
    exclusive_start_key: dict[str, Any] | None,
    forward: bool,
) -> tuple[list[Any], int, dict[str, Any] | None]:
    stored = table.items.get(hash_key)
    if stored is None:
        entries: list[tuple[Any, Any]] = []
    elif table.has_range_key:
        entries = sorted(((_plain(item.range_key), item) for item in stored.values()), key=lambda e: e[0])
    else:
        entries = [(None, stored)]
    window = _window(entries, lambda e: e[0], range_comparison, [obj.cast_value for obj in range_objs])
    start = None
    if exclusive_start_key and table.has_range_key:
        start = _plain_key(exclusive_start_key, table.range_key_attr)
    after_start = _start_position(entries, lambda e: e[0], start, forward) if start is not None else None
    positions = window if forward else range(window.stop - 1, window.start - 1, -1)
    return _walk(
        table,
        positions,
        lambda position: entries[position][1],
        after_start or (lambda p: True),
        range_comparison,
        range_objs,
        table.range_key_attr,
        limit,
        None,
    )


def _indexed(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def query(
        self: Any,
        hash_key: Any,
        range_comparison: str | None,
        range_objs: list[Any],
        limit: int | None,
        exclusive_start_key: dict[str, Any] | None,
        scan_index_forward: bool,
        projection_expressions: list[list[str]] | None,
        index_name: str | None = None,
        consistent_read: bool = False,
        filter_expression: Any = None,
        hash_key_conditions: list[tuple[str, Any]] | None = None,
        range_key_conditions: list[tuple[str, str, list[Any]]] | None = None,
        **filter_kwargs: Any,
    ) -> tuple[list[Any], int, dict[str, Any] | None]:
        from app.local.moto_patches.write_lock import WRITE_LOCK

        def fall_back() -> tuple[list[Any], int, dict[str, Any] | None]:
            return original(
                self,
                hash_key,
                range_comparison,
                range_objs,
                limit,
                exclusive_start_key,
                scan_index_forward,
                projection_expressions,
                index_name,
                consistent_read,
                filter_expression,
                hash_key_conditions=hash_key_conditions,
                range_key_conditions=range_key_conditions,
                **filter_kwargs,
            )

        if filter_kwargs or hash_key is None or len(hash_key_conditions or [None]) != 1:
            return fall_back()
        if len(range_key_conditions or []) > 1:
            return fall_back()
        # Writes change the sorted lists: read them under the same lock.
        with WRITE_LOCK:
            if index_name:
                gsi = index_of(self).gsis.get(index_name)
                if gsi is None or consistent_read or hash_key_conditions[0][0] != gsi.hash_attr:
                    return fall_back()  # moto's errors, or a shape we don't index
                found, scanned, last_key = _gsi_query(
                    self,
                    gsi,
                    hash_key,
                    range_comparison,
                    range_objs,
                    limit,
                    exclusive_start_key,
                    scan_index_forward,
                )
            else:
                found, scanned, last_key = _base_query(
                    self,
                    hash_key,
                    range_comparison,
                    range_objs,
                    limit,
                    exclusive_start_key,
                    scan_index_forward,
                )
            results = copy.deepcopy(found)
        if index_name:
            index = self.get_index(index_name)
            results = [index.project(result) for result in results]
        if filter_expression is not None:
            results = [item for item in results if filter_expression.expr(item)]
        if projection_expressions:
            results = [result.project(projection_expressions) for result in results]
        return results, scanned, last_key

    return query


def apply() -> None:
    from moto.dynamodb.models.table import Table

    Table.query = _indexed(Table.query)  # type: ignore[method-assign]
    change_hooks.on_change(_on_change)
