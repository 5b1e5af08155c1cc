"""One place that hears every change to a DynamoDB item in moto.

moto writes items in three places: ``Table.put_item``, ``Table.delete_item``
and ``DynamoDBBackend.update_item`` (which changes the stored ``Item`` in
place). Batch writes, transactions and TTL deletions all go through them.
Listeners (the query index, the journal) are told the table, the item's key
and its new state (None once deleted), after the write, under the write lock.
A listener must not raise: the write already happened.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

# What the patch is for (docs/local.md): correctness, missing feature, memory or speed.
PURPOSE = "missing feature"

# (table, hash key, range key or None, the item now or None if deleted)
ChangeListener = Callable[[Any, Any, Any, Any], None]
# (table) when a table is dropped
DropListener = Callable[[Any], None]
# (table) when a table is created
CreateListener = Callable[[Any], None]

_change_listeners: list[ChangeListener] = []
_drop_listeners: list[DropListener] = []
_create_listeners: list[CreateListener] = []


def on_change(listener: ChangeListener) -> None:
    if listener not in _change_listeners:
        _change_listeners.append(listener)


def on_drop(listener: DropListener) -> None:
    if listener not in _drop_listeners:
        _drop_listeners.append(listener)


def on_create(listener: CreateListener) -> None:
    if listener not in _create_listeners:
        _create_listeners.append(listener)


def notify_change(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    for listener in _change_listeners:
        listener(table, hash_key, range_key, item)


def apply() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original_put = Table.put_item
    original_delete = Table.delete_item
    original_update = DynamoDBBackend.update_item
    original_create = DynamoDBBackend.create_table
    original_drop = DynamoDBBackend.delete_table

    @functools.wraps(original_put)
    def put_item(self: Table, *args: Any, **kwargs: Any) -> Any:
        item = original_put(self, *args, **kwargs)
        notify_change(self, item.hash_key, item.range_key, item)
        return item

    @functools.wraps(original_delete)
    def delete_item(self: Table, hash_key: Any, range_key: Any) -> Any:
        item = original_delete(self, hash_key, range_key)
        if item is not None:
            notify_change(self, item.hash_key, item.range_key, None)
        return item

    @functools.wraps(original_update)
    def update_item(self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Any:
        item = original_update(self, table_name, *args, **kwargs)
        notify_change(self.get_table(table_name), item.hash_key, item.range_key, item)
        return item

    @functools.wraps(original_create)
    def create_table(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        table = original_create(self, *args, **kwargs)
        for listener in _create_listeners:
            listener(table)
        return table

    @functools.wraps(original_drop)
    def delete_table(self: DynamoDBBackend, name: str) -> Any:
        table = original_drop(self, name)
        for listener in _drop_listeners:
            listener(table)
        return table

    Table.put_item = put_item  # type: ignore[method-assign]
    Table.delete_item = delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
    DynamoDBBackend.create_table = create_table  # type: ignore[method-assign]
    DynamoDBBackend.delete_table = delete_table  # type: ignore[method-assign]
