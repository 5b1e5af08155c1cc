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
from app.adapters.task_store import BY_STATUS, BY_TYPE_STATUS
from app.domain.errors import StoreUnavailable
from app.domain.task import TaskStatus
from app.services.dashboard import StatusCount

DEFAULT_CAP = 1000


class TaskCounts(aws.DynamoDBTable):
    def __init__(self, table_name: str, dynamodb: Any = None, cap: int = DEFAULT_CAP):
        super().__init__(table_name, dynamodb)
        self.cap = cap

    def by_status(self, task_type: str | None = None) -> list[StatusCount]:
        """Counts for every status, of one task type or of all."""
        return [self._count(status, task_type) for status in TaskStatus]

    def _count(self, status: TaskStatus, task_type: str | None) -> StatusCount:
        if task_type:
            index, value = BY_TYPE_STATUS, f"{task_type}#{status.value}"
        else:
            index, value = BY_STATUS, status.value
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index.name,
            "KeyConditionExpression": "#p = :p",
            "ExpressionAttributeNames": {"#p": index.partition_attr},
            "ExpressionAttributeValues": {":p": {"S": value}},
            "Select": "COUNT",
        }
        counted = 0
        while True:
            # One item past the cap tells "exactly the cap" from "more than that".
            request["Limit"] = self.cap + 1 - counted
            response = self._query(request)
            counted += response.get("Count", 0)
            if counted > self.cap:
                return StatusCount(status, self.cap, capped=True)
            if "LastEvaluatedKey" not in response:
                return StatusCount(status, counted)
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _query(self, request: dict[str, Any]) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.dynamodb.query(**request)
        except ClientError as exc:
            raise StoreUnavailable(f"DynamoDB query failed: {exc.response['Error']['Code']}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB query failed: {exc}") from exc
