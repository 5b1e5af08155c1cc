"""How many times each task's webhook was sent, as items of the tasks table.

  pk=WEBHOOK#<task id>  sk=WEBHOOK  sends=<n>  ttl=<the task's>  resent_time=<epoch s of the last resend>

The first send is created once (a stream record delivered twice enqueues one
webhook); each resend adds one, at most one a RESEND_INTERVAL_SECONDS
(app/domain/webhooks.py). No index attributes: they stay out of every
listing, and expire with their task.
"""

from __future__ import annotations

from typing import Any

from app.adapters import aws
from app.domain.errors import Throttled

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

    def next_send(self, task_id: str, expires: int, now: float, interval: int) -> int:
        """Record one more send (a resend); its number. Throttled within ``interval`` s of the last resend.

        One conditional write: concurrent resends of a task can't both pass.
        """
        try:
            response = self._call(
                "update_item",
                TableName=self.table_name,
                Key=delivery_key(task_id),
                # Send 1 is the automatic one, counted here even if its stream record is still on its way.
                UpdateExpression=(
                    "SET sends = if_not_exists(sends, :one) + :one, #ttl = if_not_exists(#ttl, :ttl), "
                    "resent_time = :now"
                ),
                ConditionExpression="attribute_not_exists(resent_time) OR resent_time <= :earliest",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":ttl": {"N": str(expires)},
                    ":now": {"N": str(int(now))},
                    ":earliest": {"N": str(int(now) - interval)},
                },
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException as exc:
            last = int(exc.response.get("Item", {}).get("resent_time", {}).get("N", int(now)))
            wait = max(1, last + interval - int(now))
            raise Throttled(
                f"This task's webhook was resent less than {interval} s ago; try again in {wait} s",
                retry_after=wait,
            ) from None
        return int(response["Attributes"]["sends"]["N"])
