"""The tasks table in DynamoDB.

Key design (single table, chosen for what is coming):
  task item     pk=TASK#<id>  sk=TASK
  timeline      pk=TASK#<id>  sk=EVENT#...   (beside the task, never inside it)
Listing GSIs, all sorted by list_sk = <created ms, 13 digits>#<id> so newest
first is a reverse Query and a created-time range is a key condition:
  by_created      list_pk ("TASK" on every task)
  by_status       status
  by_type         task_type
  by_type_status  type_status ("<type>#<status>")
Only task items carry these attributes, so timeline items stay out of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from app.adapters import aws, page_tokens
from app.domain.errors import InvalidTransition, StoreUnavailable, TaskNotFound
from app.domain.listing import TaskPage, TaskQuery
from app.domain.task import Task, TaskStatus

TASK_SK = "TASK"
ALL_TASKS = "TASK"


@dataclass(frozen=True)
class ListingIndex:
    name: str
    partition_attr: str


BY_CREATED = ListingIndex("by_created", "list_pk")
BY_STATUS = ListingIndex("by_status", "status")
BY_TYPE = ListingIndex("by_type", "task_type")
BY_TYPE_STATUS = ListingIndex("by_type_status", "type_status")
LISTING_INDEXES = (BY_CREATED, BY_STATUS, BY_TYPE, BY_TYPE_STATUS)


def task_key(task_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"TASK#{task_id}"}, "sk": {"S": TASK_SK}}


def list_sort_key(created_ms: int, task_id: str) -> str:
    return f"{created_ms:013d}#{task_id}"


def choose_index(query: TaskQuery) -> tuple[ListingIndex, str]:
    """The index that serves ``query`` exactly, and its partition value."""
    if query.status and query.task_type:
        return BY_TYPE_STATUS, f"{query.task_type}#{query.status.value}"
    if query.status:
        return BY_STATUS, query.status.value
    if query.task_type:
        return BY_TYPE, query.task_type
    return BY_CREATED, ALL_TASKS


def to_item(task: Task) -> dict[str, Any]:
    item: dict[str, Any] = {
        **task_key(task.id),
        "id": {"S": task.id},
        "task_type": {"S": task.task_type},
        "status": {"S": task.status.value},
        "status_msg": {"S": task.status_msg},
        # Stored as JSON text: exactly what the client sent, with no float or
        # nesting-depth limits of DynamoDB maps.
        "data": {"S": json.dumps(task.data, separators=(",", ":"))},
        "created_time": {"N": str(task.created_time)},
        "created_ms": {"N": str(task.created_ms)},
        "ttl": {"N": str(task.ttl)},
        "attempt": {"N": str(task.attempt)},
        "lease_expires": {"N": str(task.lease_expires)},
        "list_pk": {"S": ALL_TASKS},
        "list_sk": {"S": list_sort_key(task.created_ms, task.id)},
        "type_status": {"S": f"{task.task_type}#{task.status.value}"},
    }
    if task.updated_time is not None:
        item["updated_time"] = {"N": str(task.updated_time)}
    if task.retry_of is not None:
        item["retry_of"] = {"S": task.retry_of}
    return item


def from_item(item: dict[str, Any]) -> Task:
    updated = item.get("updated_time")
    return Task(
        id=item["id"]["S"],
        task_type=item["task_type"]["S"],
        status=TaskStatus(item["status"]["S"]),
        status_msg=item.get("status_msg", {}).get("S", ""),
        data=json.loads(item["data"]["S"]),
        created_time=int(item["created_time"]["N"]),
        created_ms=int(item["created_ms"]["N"]),
        ttl=int(item["ttl"]["N"]),
        updated_time=int(updated["N"]) if updated else None,
        attempt=int(item.get("attempt", {}).get("N", "0")),
        lease_expires=int(item.get("lease_expires", {}).get("N", "0")),
        retry_of=item.get("retry_of", {}).get("S"),
    )


class TaskStore:
    """Tasks in DynamoDB; every state change is a conditional write."""

    def __init__(self, table_name: str, dynamodb: Any = None):
        self.table_name = table_name
        self._dynamodb = dynamodb

    @property
    def dynamodb(self) -> Any:
        if self._dynamodb is None:
            self._dynamodb = aws.client("dynamodb")
        return self._dynamodb

    def add(self, task: Task) -> None:
        self._call(
            "put_item",
            TableName=self.table_name,
            Item=to_item(task),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get(self, task_id: str) -> Task:
        response = self._call(
            "get_item", TableName=self.table_name, Key=task_key(task_id), ConsistentRead=True
        )
        if "Item" not in response:
            raise TaskNotFound(task_id)
        return from_item(response["Item"])

    def list(self, query: TaskQuery, page_token: str | None = None) -> TaskPage:
        index, partition_value = choose_index(query)
        key_condition = "#p = :p"
        values: dict[str, Any] = {":p": {"S": partition_value}}
        if query.created_from is not None or query.created_to is not None:
            low = (query.created_from or 0) * 1000
            high = (query.created_to if query.created_to is not None else 9_999_999_999) * 1000 + 999
            key_condition += " AND list_sk BETWEEN :low AND :high"
            values[":low"] = {"S": f"{low:013d}"}
            values[":high"] = {"S": f"{high:013d}~"}
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeNames": {"#p": index.partition_attr},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            # One extra item tells whether another page exists, so the last
            # page never carries a token that leads to an empty page.
            "Limit": query.limit + 1,
        }
        if page_token:
            start = page_tokens.decode(page_token, index.name, index.partition_attr, partition_value)
            request["ExclusiveStartKey"] = {name: {"S": value} for name, value in start.items()}
        response = self._call("query", **request)
        items = response.get("Items", [])
        tasks = [from_item(item) for item in items[: query.limit]]
        next_token = None
        if len(items) > query.limit:
            last = items[query.limit - 1]
            last_key = {name: last[name]["S"] for name in ("pk", "sk", index.partition_attr, "list_sk")}
            next_token = page_tokens.encode(index.name, last_key)
        return TaskPage(tasks=tasks, next_token=next_token)

    def replace_if(self, new: Task, expected: Task) -> Task:
        """Write ``new`` only if the stored task still has ``expected``'s status and attempt.

        This is the optimistic-concurrency step behind every status change: of
        two writers that read the same state, exactly one wins; the loser gets
        InvalidTransition naming the status it lost to.
        """
        names = {"#status": "status", "#ttl": "ttl"}
        values: dict[str, Any] = {
            ":status": {"S": new.status.value},
            ":msg": {"S": new.status_msg},
            ":type_status": {"S": f"{new.task_type}#{new.status.value}"},
            ":attempt": {"N": str(new.attempt)},
            ":lease": {"N": str(new.lease_expires)},
            ":ttl": {"N": str(new.ttl)},
            ":expected_status": {"S": expected.status.value},
            ":expected_attempt": {"N": str(expected.attempt)},
        }
        update = (
            "SET #status = :status, status_msg = :msg, type_status = :type_status, "
            "attempt = :attempt, lease_expires = :lease, #ttl = :ttl"
        )
        if new.updated_time is not None:
            update += ", updated_time = :updated"
            values[":updated"] = {"N": str(new.updated_time)}
        try:
            self._call(
                "update_item",
                TableName=self.table_name,
                Key=task_key(new.id),
                UpdateExpression=update,
                ConditionExpression="#status = :expected_status AND attempt = :expected_attempt",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException as exc:
            old = exc.response.get("Item")
            if not old:
                raise TaskNotFound(new.id) from exc
            raise InvalidTransition(new.id, old["status"]["S"], new.status.value) from exc
        return new

    def _call(self, operation: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.dynamodb, operation)(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise
            raise StoreUnavailable(f"DynamoDB {operation} failed: {exc.response['Error']['Code']}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB {operation} failed: {exc}") from exc


@lru_cache
def for_table(table_name: str) -> TaskStore:
    """One store per table per process, so warm invocations reuse its client."""
    return TaskStore(table_name)
