"""How many times each task's webhook was sent, as items of the tasks table.

  pk=WEBHOOK#<task id>  sk=WEBHOOK  sends=<n>  ttl=<the task's>

The first send is created once (a stream record delivered twice enqueues one
webhook); each resend adds one. No index attributes: they stay out of every
listing, and expire with their task.
"""

from __future__ import annotations

from typing import Any

from app.adapters import aws

PREFIX = "WEBHOOK#"
SORT_KEY = "WEBHOOK"


def delivery_key(task_id: str) -> dict[str, Any]:
    return {"pk": {"S": PREFIX + task_id}, "sk": {"S": SORT_KEY}}


class WebhookDeliveries(aws.DynamoDBTable):
    def first_send(self, task_id: str, expires: int) -> bool:
        """Record the automatic send of a task's webhook: False if it was recorded before."""
        try:
            self._call(
                "put_item",
                TableName=self.table_name,
                Item={**delivery_key(task_id), "sends": {"N": "1"}, "ttl": {"N": str(expires)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def next_send(self, task_id: str, expires: int) -> int:
        """Record one more send (a resend); its number."""
        response = self._call(
            "update_item",
            TableName=self.table_name,
            Key=delivery_key(task_id),
            # Send 1 is the automatic one, counted here even if its stream record is still on its way.
            UpdateExpression=(
                "SET sends = if_not_exists(sends, :one) + :one, #ttl = if_not_exists(#ttl, :ttl)"
            ),
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={":one": {"N": "1"}, ":ttl": {"N": str(expires)}},
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"]["sends"]["N"])
