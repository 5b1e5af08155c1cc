"""The emulator keeps its tables on disk: a clean stop, a kill -9, TTL, and one emulator per folder."""

from __future__ import annotations

import os
import signal
import time

import boto3
import pytest

from app.local import sls_config
from app.local.emulator import start_emulator
from app.local.provision import provision
from app.local.runtime import emulator_clients
from tests.conftest import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def dummy_credentials(emulator_endpoint: str) -> None:
    """The shared emulator's fixture set the environment every emulator client needs."""


def provisioned_table(endpoint: str) -> tuple[str, dict]:
    topology = sls_config.load(stage="durable")
    clients = emulator_clients(endpoint, topology.region)
    return provision(topology, clients).table_name, clients


def put(dynamodb, table: str, key: str, **extra) -> None:
    item = {"pk": {"S": key}, "sk": {"S": "X"}, **{name: {"N": str(value)} for name, value in extra.items()}}
    dynamodb.put_item(TableName=table, Item=item)


def keys(dynamodb, table: str) -> set[str]:
    items = dynamodb.scan(TableName=table)["Items"]
    return {item["pk"]["S"] for item in items}


def test_tables_survive_a_clean_stop_and_a_start(tmp_path):
    emulator = start_emulator(tmp_path)
    try:
        table, clients = provisioned_table(emulator.endpoint)
        for number in range(30):
            put(clients["dynamodb"], table, f"k{number}")
        clients["dynamodb"].delete_item(TableName=table, Key={"pk": {"S": "k0"}, "sk": {"S": "X"}})
    finally:
        emulator.stop()
    assert (tmp_path / "dynamodb" / f"{table}.snapshot").exists()
    emulator = start_emulator(tmp_path)
    try:
        table, clients = provisioned_table(emulator.endpoint)
        assert keys(clients["dynamodb"], table) == {f"k{number}" for number in range(1, 30)}
        # Restored items come back without stream records: nothing is published twice.
        streams = clients["dynamodbstreams"]
        arn = clients["dynamodb"].describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        assert streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"] == []
    finally:
        emulator.stop()


def test_a_killed_emulator_loses_no_acknowledged_write(tmp_path):
    emulator = start_emulator(tmp_path)
    table, clients = provisioned_table(emulator.endpoint)
    for number in range(50):
        put(clients["dynamodb"], table, f"k{number}", version=number)
    clients["dynamodb"].update_item(
        TableName=table,
        Key={"pk": {"S": "k7"}, "sk": {"S": "X"}},
        UpdateExpression="SET version = :v",
        ExpressionAttributeValues={":v": {"N": "700"}},
    )
    os.kill(emulator.process.pid, signal.SIGKILL)  # no clean stop, no snapshot
    emulator.process.wait()
    emulator = start_emulator(tmp_path)
    try:
        table, clients = provisioned_table(emulator.endpoint)
        assert keys(clients["dynamodb"], table) == {f"k{number}" for number in range(50)}
        item = clients["dynamodb"].get_item(TableName=table, Key={"pk": {"S": "k7"}, "sk": {"S": "X"}})
        assert item["Item"]["version"] == {"N": "700"}
    finally:
        emulator.stop()


def test_a_second_emulator_on_the_same_folder_is_refused(tmp_path):
    emulator = start_emulator(tmp_path)
    try:
        with pytest.raises(RuntimeError, match="exited"):
            start_emulator(tmp_path)
    finally:
        emulator.stop()


def test_expired_items_are_deleted_as_dynamodb_ttl_does(tmp_path, capfd):
    emulator = start_emulator(tmp_path, ttl_sweep_seconds=0.2)
    try:
        table, clients = provisioned_table(emulator.endpoint)
        dynamodb = clients["dynamodb"]
        now = int(time.time())
        put(dynamodb, table, "expired", ttl=now - 10)
        put(dynamodb, table, "alive", ttl=now + 3600)
        put(dynamodb, table, "no-ttl")
        wait_until(lambda: keys(dynamodb, table) == {"alive", "no-ttl"}, timeout=10, what="the TTL sweep")
        wait_until(lambda: "ttl: removed 1 expired item(s)" in capfd.readouterr().out, timeout=5,
                   what="the sweep's report")  # fmt: skip
    finally:
        emulator.stop()
    # The deletion is kept too.
    emulator = start_emulator(tmp_path)
    try:
        table, clients = provisioned_table(emulator.endpoint)
        assert keys(clients["dynamodb"], table) == {"alive", "no-ttl"}
    finally:
        emulator.stop()


def test_an_expired_task_goes_with_its_timeline(tmp_path):
    from app.adapters.task_store import TaskStore
    from app.domain.task import new_task
    from app.domain.timeline import Hop, event_of

    emulator = start_emulator(tmp_path, ttl_sweep_seconds=0.2)
    try:
        table, clients = provisioned_table(emulator.endpoint)
        store = TaskStore(table, clients["dynamodb"])
        now = time.time()
        expired = new_task("TASK1", {}, int(now) - 10, now - 60)
        alive = new_task("TASK1", {}, int(now) + 3600, now)
        for task in (expired, alive):
            store.add(task)
            store.add_events([event_of(task, Hop.PUBLISHED, now + 1, "publisher")])

        def table_keys() -> set[str]:
            return {item["pk"]["S"] for item in clients["dynamodb"].scan(TableName=table)["Items"]}

        wait_until(lambda: f"TASK#{expired.id}" not in table_keys(), timeout=10, what="the TTL sweep")
        assert store.events(expired.id) == []
        assert [event.hop for event in store.events(alive.id)] == [Hop.CREATED, Hop.PUBLISHED]
    finally:
        emulator.stop()


def test_the_emulator_listens_on_loopback_only(tmp_path):
    emulator = start_emulator()
    try:
        assert emulator.endpoint.startswith("http://127.0.0.1:")
        boto3.client("sqs", endpoint_url=emulator.endpoint, region_name="eu-west-1").list_queues()
    finally:
        emulator.stop()
