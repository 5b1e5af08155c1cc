"""transactions: TransactWriteItems as DynamoDB does it, copying only the items it touches."""

from __future__ import annotations

import pytest
from moto.dynamodb.exceptions import TransactionCanceledException

from tests.unit.moto_patches.backends import backend, new_table, put, query, stream_length


def test_a_transaction_whose_condition_fails_writes_nothing():
    table_name = new_table()
    backend().put_item(table_name, {"pk": {"S": "taken"}, "sk": {"S": "s"}})
    before = stream_length(table_name)
    guarded = put(table_name, "taken", kind="k1")
    guarded["Put"]["ConditionExpression"] = "attribute_not_exists(pk)"
    with pytest.raises(TransactionCanceledException) as refused:
        backend().transact_write_items([put(table_name, "new", kind="k1"), guarded])
    assert "ConditionalCheckFailed" in refused.value.message
    table = backend().get_table(table_name)
    assert table.get_item(*backend().get_keys_value(table, {"pk": {"S": "new"}, "sk": {"S": "s"}})) is None
    assert stream_length(table_name) == before


def test_a_transaction_that_fails_midway_is_rolled_back_with_its_stream_records_and_index_entries():
    table_name = new_table()
    backend().put_item(
        table_name, {"pk": {"S": "old"}, "sk": {"S": "s"}, "group": {"S": "g"}, "order": {"S": "1"}}
    )
    query(table_name, "by_group", "g", None, None, None, True)  # the index is built
    before = stream_length(table_name)
    breaking = {"Update": {"TableName": table_name, "Key": {"pk": {"S": "old"}, "sk": {"S": "s"}},
                           "UpdateExpression": "SET order = order + :one",  # a string plus a number
                           "ExpressionAttributeValues": {":one": {"N": "1"}}}}  # fmt: skip
    with pytest.raises(Exception):  # noqa: B017 (moto's own error for the bad update)
        backend().transact_write_items([put(table_name, "fresh", group="g", order="2"), breaking])
    assert stream_length(table_name) == before
    listed = query(table_name, "by_group", "g", None, None, None, True)[0]
    assert [item["Attributes"]["pk"]["S"] for item in listed] == ["old"]


def test_a_successful_transaction_applies_every_write_once():
    table_name = new_table()
    backend().transact_write_items(
        [put(table_name, "a", group="g", order="1"), put(table_name, "b", group="g", order="2")]
    )
    listed = query(table_name, "by_group", "g", None, None, None, True)[0]
    assert [item["Attributes"]["pk"]["S"] for item in listed] == ["a", "b"]
    assert stream_length(table_name) == 2


def items_made_by_a_transaction(table_size: int) -> int:
    """How many Item objects moto makes for one Put in a transaction on a table of that many items."""
    from moto.dynamodb.models.dynamo_type import Item

    table_name = new_table()
    for number in range(table_size):
        backend().put_item(table_name, {"pk": {"S": f"p{number}"}, "sk": {"S": "s"}})
    made: list[int] = []
    had_own_new = "__new__" in Item.__dict__
    original_new = Item.__new__

    def counting_new(cls, *args, **kwargs):
        made.append(1)
        return original_new(cls) if original_new is object.__new__ else original_new(cls, *args, **kwargs)

    Item.__new__ = counting_new  # type: ignore[method-assign,assignment]
    try:
        backend().transact_write_items([put(table_name, "p0", kind="k1")])
    finally:
        if had_own_new:
            Item.__new__ = original_new  # type: ignore[method-assign]
        else:
            del Item.__new__
    return len(made)


@pytest.mark.needs_patch("transactions")
def test_a_transaction_copies_the_items_it_touches_not_the_table():
    assert items_made_by_a_transaction(300) == items_made_by_a_transaction(3)
