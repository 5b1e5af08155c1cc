"""Create in the emulator what serverless.yml declares: table, topic, queues, subscriptions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.local.sls_config import Topology


@dataclass(frozen=True)
class LocalResources:
    table_name: str
    stream_arn: str
    topic_arns: dict[str, str]
    queue_urls: dict[str, str]
    queue_arns: dict[str, str]


def provision(
    topology: Topology, clients: dict[str, Any], visibility_timeout_override: int | None = None
) -> LocalResources:
    """Create every resource; ``visibility_timeout_override`` shortens retries for tests."""
    dynamodb, sns, sqs = clients["dynamodb"], clients["sns"], clients["sqs"]
    table = topology.table
    created = dynamodb.create_table(
        TableName=table.name,
        AttributeDefinitions=table.attribute_definitions,
        KeySchema=table.key_schema,
        GlobalSecondaryIndexes=table.global_secondary_indexes,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": table.stream_view_type},
    )
    if table.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=table.name,
            TimeToLiveSpecification={"AttributeName": table.ttl_attribute, "Enabled": True},
        )
    topic_arns = {
        logical_id: sns.create_topic(Name=topic.name)["TopicArn"]
        for logical_id, topic in topology.topics.items()
    }

    queue_urls: dict[str, str] = {}
    queue_arns: dict[str, str] = {}
    # Dead-letter queues first: a redrive policy names its DLQ's ARN.
    ordered = sorted(topology.queues.values(), key=lambda queue: queue.dead_letter_logical_id is not None)
    for queue in ordered:
        attributes = {"VisibilityTimeout": str(visibility_timeout_override or queue.visibility_timeout)}
        if queue.message_retention_period:
            attributes["MessageRetentionPeriod"] = str(queue.message_retention_period)
        if queue.dead_letter_logical_id:
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": queue_arns[queue.dead_letter_logical_id],
                    "maxReceiveCount": queue.max_receive_count,
                }
            )
        url = sqs.create_queue(QueueName=queue.name, Attributes=attributes)["QueueUrl"]
        queue_urls[queue.logical_id] = url
        queue_arns[queue.logical_id] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    for subscription in topology.subscriptions:
        attributes = {"RawMessageDelivery": "true" if subscription.raw_message_delivery else "false"}
        if subscription.filter_policy:
            attributes["FilterPolicy"] = json.dumps(subscription.filter_policy)
        sns.subscribe(
            TopicArn=topic_arns[subscription.topic_logical_id],
            Protocol="sqs",
            Endpoint=queue_arns[subscription.queue_logical_id],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )
    return LocalResources(
        table_name=table.name,
        stream_arn=created["TableDescription"]["LatestStreamArn"],
        topic_arns=topic_arns,
        queue_urls=queue_urls,
        queue_arns=queue_arns,
    )
