"""stream_retention: a table's stream keeps what DynamoDB Streams would, not everything forever."""

from __future__ import annotations

import pytest

from tests.unit.moto_patches.backends import backend, new_table


@pytest.mark.needs_patch("stream_retention")
def test_the_stream_keeps_its_newest_records_and_reads_on_from_a_trimmed_position(monkeypatch):
    from app.local.moto_patches import stream_retention

    monkeypatch.setattr(stream_retention, "STREAM_RECORDS_KEPT", 10)
    monkeypatch.setattr(stream_retention, "_TRIM_CHUNK", 5)
    table_name = new_table()
    for number in range(40):
        backend().put_item(table_name, {"pk": {"S": f"p{number}"}, "sk": {"S": "s"}})
    shard = backend().get_table(table_name).stream_shard
    assert len(shard.items) < 15
    oldest = shard.starting_sequence_number
    records = shard.get(oldest - 20, 100)  # a position already trimmed
    assert records[0]["dynamodb"]["SequenceNumber"] == str(oldest)
    assert records[-1]["dynamodb"]["Keys"]["pk"] == {"S": "p39"}


def test_shard_iterators_expire_instead_of_piling_up(monkeypatch):
    from app.local.moto_patches import stream_retention

    iterators = stream_retention.ExpiringIterators()
    clock = iter([0.0, 1.0, 2.0, 2000.0])
    monkeypatch.setattr(stream_retention.time, "monotonic", lambda: next(clock))
    for name in ("a", "b", "c"):
        iterators[name] = name
    iterators["d"] = "d"  # 2000 s later: the others are past their 15 minutes
    assert list(iterators) == ["d"]


@pytest.mark.needs_patch("stream_retention")
def test_the_server_forgets_shard_iterators_past_their_lifetime(aws, monkeypatch):
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    from app.local.moto_patches import stream_retention
    from tests.unit.moto_patches.backends import ACCOUNT, REGION, create_table

    dynamodb, streams = aws("dynamodb"), aws("dynamodbstreams")
    table = create_table(dynamodb, stream=True)
    stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard_id = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    now = [stream_retention.time.monotonic()]  # iterators of earlier tests are older still
    monkeypatch.setattr(stream_retention.time, "monotonic", lambda: now[0])
    handed_out = []
    for _ in range(5):
        handed_out.append(
            streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="LATEST")
        )
        now[0] += stream_retention.ITERATOR_LIFETIME_SECONDS  # each outlives the one before
    kept = dynamodbstreams_backends[ACCOUNT][REGION].shard_iterators
    assert len(kept) <= 2
    assert all(len(iterator["ShardIterator"]) < 200 for iterator in handed_out)
