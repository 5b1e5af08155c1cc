"""TransactWriteItems that backs up only the items it touches.

Replaces ``DynamoDBBackend.transact_write_items``, which deep-copies every
whole table a transaction names before applying it (so a create cost 8.7 s
with 4,000 tasks in the table, and with ``instances_tracked`` every copy
stayed in memory). Here every condition is checked first, against the state
before the transaction, as DynamoDB does; nothing is written unless all hold.
The writes then apply with a copy of just the touched items, restored (with
the stream records the writes added) if one of them fails. The write lock
(write_lock.py) keeps other writers out meanwhile.
"""

from __future__ import annotations

import copy
from typing import Any

from app.local.moto_patches import change_hooks

# What the patch is for (docs/local.md): correctness, missing feature, memory or speed.
PURPOSE = "speed, memory"

MAX_ITEMS = 100
OPERATIONS = ("ConditionCheck", "Put", "Delete", "Update")


def _key_of(backend: Any, op_type: str, op: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    table = backend.get_table(op["TableName"])
    if op_type != "Put":
        return table, op["Key"]
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return table, key


def _check(backend: Any, op: dict[str, Any], key: dict[str, Any]) -> tuple[str, str, Any] | None:
    """The cancellation reason of one operation, or None if its condition holds."""
    from moto.dynamodb.comparisons import get_filter_expression

    condition = op.get("ConditionExpression")
    if condition is None:
        return None
    current = backend.get_item(op["TableName"], key)
    holds = get_filter_expression(
        condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    ).expr(current)
    if holds:
        return None
    old = None
    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current is not None:
        old = current.to_json()["Attributes"]
    return ("ConditionalCheckFailed", "The conditional request failed", old)


def _apply_op(backend: Any, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
    names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    if op_type == "Put":
        backend.put_item(
            op["TableName"], op["Item"], expression_attribute_names=names, expression_attribute_values=values
        )
    elif op_type == "Delete":
        backend.delete_item(
            op["TableName"], key, expression_attribute_names=names, expression_attribute_values=values
        )
    elif op_type == "Update":
        backend.update_item(
            op["TableName"],
            key,
            update_expression=op["UpdateExpression"],
            expression_attribute_names=names,
            expression_attribute_values=values,
        )


class _Backup:
    """The touched items as they were, and where each table's stream ended."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, Any, Any, Any]] = []  # (table, hash, range, item copy or None)
        self.stream_ends: dict[int, tuple[Any, int]] = {}

    def keep(self, backend: Any, table: Any, key: dict[str, Any]) -> None:
        hash_key, range_key = backend.get_keys_value(table, key)
        current = table.get_item(hash_key, range_key)
        self.items.append((table, hash_key, range_key, copy.deepcopy(current)))
        shard = table.stream_shard
        if shard is not None and id(table) not in self.stream_ends:
            self.stream_ends[id(table)] = (table, shard.starting_sequence_number + len(shard.items))

    def restore(self) -> None:
        for table, hash_key, range_key, item in reversed(self.items):
            if table.has_range_key:
                partition = table.items[hash_key]
                if item is None:
                    partition.pop(range_key, None)
                else:
                    partition[range_key] = item
            elif item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
            change_hooks.notify_change(table, hash_key, range_key, item)
        for table, end in self.stream_ends.values():
            shard = table.stream_shard
            added = shard.starting_sequence_number + len(shard.items) - end
            if added > 0:
                del shard.items[-added:]


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    from moto.dynamodb.exceptions import (
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > MAX_ITEMS:
        raise TooManyTransactionsException()
    planned: list[tuple[str, dict[str, Any], Any, dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        if op_type not in OPERATIONS:
            raise MockValidationException(f"Unsupported transaction operation: {op_type}")
        table, key = _key_of(self, op_type, op)
        identity = (op["TableName"], str(dict(sorted(key.items()))))
        if identity in seen:
            raise MultipleTransactionsException()
        seen.add(identity)
        planned.append((op_type, op, table, key))

    reasons = [_check(self, op, key) for _, op, _, key in planned]
    if any(reasons):
        raise TransactionCanceledException([reason or (None, None, None) for reason in reasons])

    backup = _Backup()
    for op_type, _, table, key in planned:
        if op_type != "ConditionCheck":
            backup.keep(self, table, key)
    for position, (op_type, op, _, key) in enumerate(planned):
        try:
            _apply_op(self, op_type, op, key)
        except MockValidationException:
            backup.restore()
            raise
        except Exception as exc:
            backup.restore()
            errors: list[Any] = [(None, None, None)] * len(planned)
            errors[position] = (type(exc).__name__, str(exc), None)
            raise TransactionCanceledException(errors) from exc


def apply() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
