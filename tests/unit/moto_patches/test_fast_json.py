"""fast_json: DynamoDB and stream answers dumped as JSON, with the values moto's serializer would give."""

from __future__ import annotations

import datetime
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from tests.unit.moto_patches.backends import create_table

EVERY_TYPE = {
    "pk": {"S": "all"},
    "sk": {"S": "s"},
    "number": {"N": "12.50"},
    "whole": {"N": "7"},
    "binary": {"B": b"\x00\xffbytes"},
    "strings": {"SS": ["x", "y"]},
    "numbers": {"NS": ["1", "2.5"]},
    "binaries": {"BS": [b"a", b"b"]},
    "yes": {"BOOL": True},
    "nothing": {"NULL": True},
    "list": {"L": [{"S": "a"}, {"N": "1"}, {"M": {"deep": {"B": b"z"}}}]},
    "map": {"M": {"text": {"S": "é ✓"}, "empty": {"S": ""}}},
}


def as_sets(item: dict[str, Any]) -> dict[str, Any]:
    """Set members in any order, as DynamoDB gives them."""
    return {
        name: {
            kind: sorted(members) if kind in ("SS", "NS", "BS") else members
            for kind, members in value.items()
        }
        for name, value in item.items()
    }


def test_every_attribute_type_and_a_stream_record_read_back_as_written(aws):
    dynamodb, streams = aws("dynamodb"), aws("dynamodbstreams")
    table = create_table(dynamodb, stream=True)
    dynamodb.put_item(TableName=table, Item=EVERY_TYPE)
    got = dynamodb.get_item(TableName=table, Key={"pk": {"S": "all"}, "sk": {"S": "s"}})["Item"]
    assert as_sets(got) == as_sets(EVERY_TYPE)
    (queried,) = dynamodb.query(TableName=table, KeyConditionExpression="pk = :p",
                                ExpressionAttributeValues={":p": {"S": "all"}})["Items"]  # fmt: skip
    assert as_sets(queried) == as_sets(EVERY_TYPE)
    stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )
    (record,) = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert record["eventName"] == "INSERT"
    assert as_sets(record["dynamodb"]["NewImage"]) == as_sets(EVERY_TYPE)
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], datetime.datetime)
    assert isinstance(record["dynamodb"]["SizeBytes"], int | Decimal)


@pytest.mark.needs_patch("fast_json")
def test_item_reads_and_stream_records_skip_moto_s_serializer(aws, monkeypatch):
    from moto.core import serialize

    dynamodb, streams = aws("dynamodb"), aws("dynamodbstreams")
    table = create_table(dynamodb, stream=True)
    dynamodb.put_item(TableName=table, Item=EVERY_TYPE)
    stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )
    serialized: Counter[str] = Counter()
    original = serialize.ResponseSerializer.serialize

    def counting(self: Any, result: Any) -> Any:
        serialized[self.operation_model.name] += 1
        return original(self, result)

    monkeypatch.setattr(serialize.ResponseSerializer, "serialize", counting)
    dynamodb.get_item(TableName=table, Key={"pk": {"S": "all"}, "sk": {"S": "s"}})
    dynamodb.query(
        TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "all"}}
    )
    streams.get_records(ShardIterator=iterator["ShardIterator"])
    dynamodb.describe_table(TableName=table)  # not one of them: moto's serializer, as before
    assert serialized == Counter({"DescribeTable": 1})
