"""When the reconciler last saw each task type's queue hold no message at all: one small item per type.

    pk=QUEUE#<type>  sk=EMPTIED  emptied_at=<epoch seconds>

Written only when that sighting finds lost tasks (a purge, a restart of make
run), so that the tasks it could not send again in that run are still known
lost in the next ones, after new messages fill the queue again. Outside every
index, and the stream functions' filters (``sk = TASK``) pass it by.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from app.adapters import aws

SK = "EMPTIED"


def _key(task_type: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"QUEUE#{task_type}"}, "sk": {"S": SK}}


class QueueMarks(aws.DynamoDBTable):
    def emptied_at(self, task_types: Iterable[str]) -> dict[str, int]:
        """Each type's last sighting of an empty queue, for the types that have one (one BatchGetItem)."""
        keys = [_key(task_type) for task_type in task_types]
        if not keys:
            return {}
        response = self._call("batch_get_item", RequestItems={self.table_name: {"Keys": keys}})
        return {
            item["pk"]["S"].removeprefix("QUEUE#"): int(item["emptied_at"]["N"])
            for item in response.get("Responses", {}).get(self.table_name, [])
        }

    def remember_emptied(self, task_type: str, at: int) -> None:
        """Keep ``at`` unless a later sighting is kept already."""
        # Refused when a later run kept a later one: that one stands.
        with contextlib.suppress(self.dynamodb.exceptions.ConditionalCheckFailedException):
            self._call(
                "update_item",
                TableName=self.table_name,
                Key=_key(task_type),
                UpdateExpression="SET emptied_at = :at",
                ConditionExpression="attribute_not_exists(emptied_at) OR emptied_at < :at",
                ExpressionAttributeValues={":at": {"N": str(at)}},
            )
