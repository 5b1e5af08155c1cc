"""change_hooks: every write to an item is heard (put, update, delete, batch, transaction), and tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.local.moto_patches import change_hooks
from tests.unit.moto_patches.backends import create_table, unique


@pytest.fixture
def heard() -> Iterator[list[tuple[str, Any]]]:
    """What the change hooks tell a listener: ("change", pk or None), ("create", name), ("drop", name)."""
    events: list[tuple[str, Any]] = []

    def changed(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
        events.append(("change", hash_key.value if item is not None else None))

    def created(table: Any) -> None:
        events.append(("create", table.name))

    def dropped(table: Any) -> None:
        events.append(("drop", table.name))

    change_hooks.on_change(changed)
    change_hooks.on_create(created)
    change_hooks.on_drop(dropped)
    yield events
    change_hooks._change_listeners.remove(changed)
    change_hooks._create_listeners.remove(created)
    change_hooks._drop_listeners.remove(dropped)


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "s"}}


@pytest.mark.needs_patch("change_hooks")
def test_every_kind_of_write_is_heard(aws, heard):
    dynamodb = aws("dynamodb")
    table = create_table(dynamodb)
    dynamodb.put_item(TableName=table, Item=key("put"))
    dynamodb.update_item(TableName=table, Key=key("put"), UpdateExpression="SET n = :n",
                         ExpressionAttributeValues={":n": {"N": "1"}})  # fmt: skip
    dynamodb.update_item(TableName=table, Key=key("put"), UpdateExpression="REMOVE n")
    dynamodb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": key("batch")}}]})
    dynamodb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": key("transaction")}}])
    dynamodb.delete_item(TableName=table, Key=key("batch"))
    dynamodb.delete_table(TableName=table)
    assert heard == [
        ("create", table),
        ("change", "put"),
        ("change", "put"),
        ("change", "put"),
        ("change", "batch"),
        ("change", "transaction"),
        ("change", None),
        ("drop", table),
    ]


@pytest.mark.needs_patch("change_hooks")
def test_an_index_query_sees_the_writes_made_after_its_index_was_built(aws):
    dynamodb = aws("dynamodb")
    table = create_table(dynamodb)
    group = unique("g")

    def item(pk: str, order: str) -> dict[str, Any]:
        return {**key(pk), "group": {"S": group}, "order": {"S": order}}

    def listed() -> list[str]:
        found = dynamodb.query(TableName=table, IndexName="by_group", KeyConditionExpression="#g = :g",
                               ExpressionAttributeNames={"#g": "group"},
                               ExpressionAttributeValues={":g": {"S": group}})  # fmt: skip
        return [entry["pk"]["S"] for entry in found["Items"]]

    dynamodb.put_item(TableName=table, Item=item("a", "1"))
    dynamodb.put_item(TableName=table, Item=item("b", "2"))
    assert listed() == ["a", "b"]
    dynamodb.update_item(TableName=table, Key=key("a"), UpdateExpression="SET #o = :o",
                         ExpressionAttributeNames={"#o": "order"},
                         ExpressionAttributeValues={":o": {"S": "3"}})  # fmt: skip
    dynamodb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item("c", "0")}}]})
    dynamodb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": item("d", "4")}}])
    assert listed() == ["c", "b", "a", "d"]
