"""UpdateItem for plain ``SET a = :v`` and ``ADD n :d`` expressions, without moto's expression engine.

``DynamoDBBackend.update_item`` parses every UpdateExpression into an AST,
deep-copies it and walks it with ten validating processors: 5.5 ms of CPU
for the claim or the finish of a task (the two writes every task makes),
a quarter of the emulator's time under load. Almost every update this
service makes assigns values to top-level attributes (SET) or adds to a
counter (ADD), which needs none of that.

Here such an expression is applied directly, with exactly moto's
behaviour around it (the condition, ALL_OLD on failure, creating a missing
item, the stream record, the size limit). Anything else, and anything that
moto would refuse (a reserved word, a key attribute, an undefined name or
value, overlapping paths, a type that doesn't fit, an empty index key), goes
to moto's own update_item, which answers as it always did.
tests/unit/moto_patches/test_simple_updates.py compares the two on drawn expressions.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

# What the patch is for (docs/local.md): correctness, missing feature, memory or speed.
PURPOSE = "speed"

_NAME = r"(?:#[A-Za-z0-9_]+|[A-Za-z][A-Za-z0-9_]*)"
_VALUE = r":[A-Za-z0-9_]+"
_SET_ACTION = re.compile(rf"^\s*({_NAME})\s*=\s*({_VALUE})\s*$")
_ADD_ACTION = re.compile(rf"^\s*({_NAME})\s+({_VALUE})\s*$")
_CLAUSE = re.compile(r"\b(SET|ADD)\b", re.IGNORECASE)
_OTHER_CLAUSES = re.compile(r"\b(REMOVE|DELETE)\b|[(+\-.\[]", re.IGNORECASE)


@dataclass(frozen=True)
class _Action:
    kind: str  # "SET" or "ADD"
    name: str  # the attribute, placeholders resolved
    value: str  # the value placeholder


def parse(expression: str, names: dict[str, str]) -> list[_Action] | None:
    """The actions of a plain SET/ADD expression, or None when moto should handle it."""
    if _OTHER_CLAUSES.search(expression):
        return None
    parts = _CLAUSE.split(expression)
    if parts[0].strip():
        return None
    actions: list[_Action] = []
    seen_clauses: set[str] = set()
    for keyword, body in zip(parts[1::2], parts[2::2], strict=True):
        kind = keyword.upper()
        if kind in seen_clauses:
            return None
        seen_clauses.add(kind)
        pattern = _SET_ACTION if kind == "SET" else _ADD_ACTION
        for text in body.split(","):
            match = pattern.match(text)
            if match is None:
                return None
            name = match.group(1)
            if name.startswith("#"):
                if name not in names:
                    return None
                name = names[name]
            elif name.upper() in _reserved_words():
                return None
            actions.append(_Action(kind, name, match.group(2)))
    attributes = [action.name for action in actions]
    if not actions or len(set(attributes)) != len(attributes):
        return None
    return actions


@functools.cache
def _reserved_words() -> frozenset[str]:
    from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

    return frozenset(word.upper() for word in ReservedKeywords.get_reserved_keywords())


def _applicable(table: Any, item: Any, actions: list[_Action], values: dict[str, Any]) -> bool:
    """Can the actions be applied without any of the refusals moto's validators make?"""
    from moto.dynamodb.models.dynamo_type import DynamoType

    declared = {definition["AttributeName"]: definition["AttributeType"] for definition in table.attr}
    for action in actions:
        if action.value not in values or action.name in table.table_key_attrs:
            return False
        value = DynamoType(values[action.value])
        if action.name in declared and value.type != declared[action.name]:
            return False
        if action.name in table.attribute_keys and value.type in ("S", "B") and not value.value:
            return False
        if action.kind == "ADD":
            current = item.attrs.get(action.name) if item is not None else None
            if value.type not in ("N", "SS", "NS", "BS"):
                return False
            if current is not None and current.type != value.type:
                return False
    return True


def _apply(item: Any, actions: list[_Action], values: dict[str, Any]) -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    for action in actions:
        value = DynamoType(values[action.value])
        current = item.attrs.get(action.name)
        if action.kind == "ADD" and current is not None:
            if value.type == "N":
                total = Decimal(current.value) + Decimal(value.value)
                value = DynamoType({"N": str(total)})
            else:
                value = DynamoType({value.type: list(dict.fromkeys([*current.value, *value.value]))})
        item.attrs[action.name] = value


def fast_update_item(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def update_item(
        self: Any,
        table_name: str,
        key: dict[str, dict[str, Any]],
        update_expression: str,
        expression_attribute_names: dict[str, Any],
        expression_attribute_values: dict[str, Any],
        attribute_updates: dict[str, Any] | None = None,
        expected: dict[str, Any] | None = None,
        condition_expression: str | None = None,
        return_values_on_condition_check_failure: str | None = None,
    ) -> Any:
        from moto.dynamodb.comparisons import get_filter_expression
        from moto.dynamodb.exceptions import (
            ConditionalCheckFailed,
            ItemSizeTooLarge,
            ItemSizeToUpdateTooLarge,
        )
        from moto.dynamodb.models.dynamo_type import DynamoType

        def moto_own() -> Any:
            return original(self, table_name, key, update_expression, expression_attribute_names,
                            expression_attribute_values, attribute_updates, expected, condition_expression,
                            return_values_on_condition_check_failure)  # fmt: skip

        table = self.get_table(table_name)
        names, values = expression_attribute_names or {}, expression_attribute_values or {}
        if attribute_updates or expected or not update_expression or table.hash_key_attr not in key:
            return moto_own()
        actions = parse(update_expression, names)
        if actions is None:
            return moto_own()
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
        item = table.get_item(hash_value, range_value)
        if not _applicable(table, item, actions, values):
            return moto_own()
        condition = get_filter_expression(condition_expression, names, values)
        if not condition.expr(item):
            if return_values_on_condition_check_failure == "ALL_OLD" and item is not None:
                raise ConditionalCheckFailed(item=item.to_json()["Attributes"])
            raise ConditionalCheckFailed
        original_item = copy.deepcopy(item)
        if item is None:  # as moto: an update creates the item it names (an INSERT of its keys first)
            created = {table.hash_key_attr: {hash_value.type: hash_value.value}}
            if range_value is not None:
                created[table.range_key_attr] = {range_value.type: range_value.value}
            table.put_item(created)
            item = table.get_item(hash_value, range_value)
        try:
            _apply(item, actions, values)
        except ItemSizeTooLarge:
            raise ItemSizeToUpdateTooLarge() from None
        if table.stream_shard is not None:
            table.stream_shard.add(original_item, item)
        return item

    return update_item


def apply() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    DynamoDBBackend.update_item = fast_update_item(DynamoDBBackend.update_item)  # type: ignore[method-assign]
