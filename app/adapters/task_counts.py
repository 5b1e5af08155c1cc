"""How many tasks are in each status: one COUNT Query per status on a listing GSI.

Capped on purpose. DynamoDB keeps no running count, so an exact count reads
every item of the status's partition (a COUNT Query still pays for each item
it examines, up to 1 MB per page). Left uncapped, one dashboard page would
cost as much as the table holds; capped at ``cap`` items per status, a page
costs at most a few pages of reads whatever the table's size, and the
dashboard shows "1,000+". Never a Scan.
"""

from __future__ import annotations

from typing import Any

from app.adapters import aws
from app.adapters.task_listing import BY_STATUS, BY_TYPE_STATUS
from app.domain.errors import StoreUnavailable
from app.domain.sharding import ShardCounts
from app.domain.task import TaskStatus
from app.services.dashboard import StatusCount

DEFAULT_CAP = 1000


class TaskCounts(aws.DynamoDBTable):
    def __init__(
        self, table_name: str, dynamodb: Any = None, cap: int = DEFAULT_CAP, shards: ShardCounts | None = None
    ):
        super().__init__(table_name, dynamodb)
        self.cap = cap
        if shards is None:
            from app.settings import get_settings

            shards = ShardCounts.for_rate(get_settings().target_tasks_per_second)
        self.shards = shards

    def by_status(self, task_type: str | None = None) -> list[StatusCount]:
        """Counts for every status, of one task type or of all."""
        return [self._count(status, task_type) for status in TaskStatus]

    def _count(self, status: TaskStatus, task_type: str | None) -> StatusCount:
        if task_type:
            index, prefix = BY_TYPE_STATUS, f"{task_type}#{status.value}"
        else:
            index, prefix = BY_STATUS, status.value
        counted = 0
        for shard in range(self.shards.of(index.name)):
            found = self._count_partition(index, index.partition(prefix, shard), self.cap + 1 - counted)
            counted += found
            if counted > self.cap:
                return StatusCount(status, self.cap, capped=True)
        return StatusCount(status, counted)

    def _count_partition(self, index: Any, value: str, cap: int) -> int:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index.name,
            "KeyConditionExpression": "#p = :p",
            "ExpressionAttributeNames": {"#p": index.partition_attr},
            "ExpressionAttributeValues": {":p": {"S": value}},
            "Select": "COUNT",
        }
        counted = 0
        while counted < cap:
            # One item past the cap tells "exactly the cap" from "more than that".
            request["Limit"] = cap - counted
            response = self._query(request)
            counted += response.get("Count", 0)
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return counted

    def _query(self, request: dict[str, Any]) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.dynamodb.query(**request)
        except ClientError as exc:
            raise StoreUnavailable(f"DynamoDB query failed: {exc.response['Error']['Code']}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB query failed: {exc}") from exc
