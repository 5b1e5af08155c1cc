"""moto's backends, and the tables and queues the patch tests make in them."""

from __future__ import annotations

import uuid
from typing import Any

ACCOUNT, REGION = "123456789012", "eu-west-1"
GSIS = [
    {
        "IndexName": "by_group",
        "KeySchema": [
            {"AttributeName": "group", "KeyType": "HASH"},
            {"AttributeName": "order", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    },
    {
        "IndexName": "by_kind",
        "KeySchema": [
            {"AttributeName": "kind", "KeyType": "HASH"},
            {"AttributeName": "order", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    },
]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def filled_queue(count: int) -> tuple[Any, Any]:
    """moto's SQS backend and a new queue in it holding ``count`` messages, m0, m1, ..."""
    from moto.sqs.models import sqs_backends

    sqs = sqs_backends[ACCOUNT][REGION]
    queue = sqs.create_queue(unique("q"))
    for number in range(count):
        sqs.send_message(queue.name, f"m{number}")
    return sqs, queue


def backend() -> Any:
    """moto's DynamoDB backend, the one its server uses too."""
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT][REGION]


def sqs_backend() -> Any:
    from moto.sqs.models import sqs_backends

    return sqs_backends[ACCOUNT][REGION]


def new_table(stream: bool = True) -> str:
    """A table (pk, sk) with the GSIs by_group and by_kind, in the backend directly."""
    name = unique("t")
    backend().create_table(
        name,
        schema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        throughput=None,
        attr=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "group", "kind", "order")],
        global_indexes=GSIS,
        indexes=[],
        streams={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"} if stream else None,
        billing_mode="PAY_PER_REQUEST",
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    return name


def create_table(dynamodb: Any, stream: bool = False) -> str:
    """The same table, made through boto3."""
    name = unique("t")
    more: dict[str, Any] = {}
    if stream:
        more["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "group", "kind", "order")
        ],
        GlobalSecondaryIndexes=GSIS,
        BillingMode="PAY_PER_REQUEST",
        **more,
    )
    return name


def query(table_name: str, index: str | None, partition: str, condition: tuple | None, limit, start, forward):
    """The backend's Query, its answer as JSON: (items, scanned count, last evaluated key)."""
    hash_attr = {"by_group": "group", "by_kind": "kind", None: "pk"}[index]
    range_attr = "sk" if index is None else "order"
    comparison, values = condition or (None, [])
    items, scanned, last = backend().query(
        table_name,
        {"S": partition},
        comparison,
        values,
        limit,
        start,
        forward,
        None,
        index_name=index,
        hash_key_conditions=[(hash_attr, {"S": partition})],
        range_key_conditions=[(range_attr, comparison, values)] if comparison else None,
    )
    shown_last = {name: value.to_json() for name, value in last.items()} if last else None
    return [item.to_json() for item in items], scanned, shown_last


def put(table_name: str, pk: str, **attrs: str) -> dict[str, Any]:
    """A transaction's Put of the item (pk, "s") with string attributes."""
    return {"Put": {"TableName": table_name, "Item": {"pk": {"S": pk}, "sk": {"S": "s"}, **{
        name: {"S": value} for name, value in attrs.items()}}}}  # fmt: skip


def stream_length(table_name: str) -> int:
    return len(backend().get_table(table_name).stream_shard.items)
