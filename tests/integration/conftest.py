"""The embedded AWS emulator, and resources provisioned from serverless.yml for each module."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from app.adapters.task_store import TaskStore
from app.local import sls_config
from app.local.emulator import start_emulator
from app.local.lambda_events import dynamodb_stream_record, sqs_record
from app.local.provision import LocalResources, provision
from app.local.runtime import emulator_clients, isolate_from_aws

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Provisioned:
    topology: sls_config.Topology
    resources: LocalResources
    clients: dict[str, Any]
    store: TaskStore

    @property
    def topic_arn(self) -> str:
        (arn,) = self.resources.topic_arns.values()
        return arn

    def queue_url(self, logical_id: str) -> str:
        return self.resources.queue_urls[logical_id]

    def stream_records(self) -> list[dict[str, Any]]:
        """Every record of the table's stream, shaped as Lambda delivers them."""
        streams = self.clients["dynamodbstreams"]
        arn = self.resources.stream_arn
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        position, raw = iterator["ShardIterator"], []
        while position:
            response = streams.get_records(ShardIterator=position)
            if not response["Records"]:
                break
            raw.extend(response["Records"])
            position = response.get("NextShardIterator")
        return [dynamodb_stream_record(r, arn, self.topology.region) for r in raw]

    def receive(self, logical_id: str) -> list[dict[str, Any]]:
        """Messages waiting on a queue, shaped as Lambda delivers them."""
        response = self.clients["sqs"].receive_message(
            QueueUrl=self.queue_url(logical_id),
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        arn = self.resources.queue_arns[logical_id]
        return [sqs_record(m, arn, self.topology.region) for m in response.get("Messages", [])]


@pytest.fixture(scope="session")
def emulator_endpoint() -> Iterator[str]:
    emulator = start_emulator()
    isolate_from_aws(emulator.endpoint, sls_config.load().region)
    try:
        yield emulator.endpoint
    finally:
        emulator.stop()


def provision_stage(
    endpoint: str, visibility_timeout: int | None = 1, include_local_only: bool = True
) -> Provisioned:
    """A fresh copy of serverless.yml's resources under a unique stage name (as make run has them,
    or as a package deploys them: without the local-only task types)."""
    topology = sls_config.load(stage=f"it-{uuid.uuid4().hex[:8]}", include_local_only=include_local_only)
    clients = emulator_clients(endpoint, topology.region)
    resources = provision(topology, clients, visibility_timeout_override=visibility_timeout)
    return Provisioned(topology, resources, clients, TaskStore(resources.table_name, clients["dynamodb"]))


@pytest.fixture(scope="module")
def provisioned(emulator_endpoint: str) -> Provisioned:
    return provision_stage(emulator_endpoint)


HANDLER_API_KEY = "handler-test-key"


@pytest.fixture
def deployed(emulator_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Provisioned]:
    """A fresh stage, with the environment serverless.yml gives the functions (REST API stage /dev)."""
    from app.settings import get_settings

    provisioned = provision_stage(emulator_endpoint)
    monkeypatch.setenv("TABLE_NAME", provisioned.resources.table_name)
    monkeypatch.setenv("TOPIC_ARN", provisioned.topic_arn)
    monkeypatch.setenv("API_KEYS", HANDLER_API_KEY)
    monkeypatch.setenv("ROOT_PATH", "/dev")
    monkeypatch.setattr("app.main._lambda_handler", None)
    get_settings.cache_clear()
    yield provisioned
    get_settings.cache_clear()


@contextmanager
def functions_running(stage: Provisioned, names: Callable[[str], bool]) -> Iterator[None]:
    """The stage's stream and queue functions whose names pass, fed as Lambda feeds them, with the
    environment serverless.yml gives them, until the block ends."""
    import threading

    from app.local.pollers import PollerContext, SqsPoller, StreamPoller
    from app.settings import get_settings

    patch = pytest.MonkeyPatch()
    patch.setenv("TABLE_NAME", stage.resources.table_name)
    patch.setenv("TOPIC_ARN", stage.topic_arn)
    patch.setenv("API_KEYS", HANDLER_API_KEY)
    get_settings.cache_clear()
    stop = threading.Event()
    context = PollerContext(stage.clients, stage.topology.region, stop, lambda invocation: None)
    resources = stage.resources
    pollers: list[Any] = [
        StreamPoller(f, resources.stream_arn, None, context)
        for f in stage.topology.stream_functions
        if names(f.name)
    ]
    for function in stage.topology.sqs_functions:
        if names(function.name):
            queue = function.queue_logical_id
            pollers.append(
                SqsPoller(function, resources.queue_urls[queue], resources.queue_arns[queue], context)
            )
    threads = [threading.Thread(target=poller.run, daemon=True) for poller in pollers]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        patch.undo()
        get_settings.cache_clear()
