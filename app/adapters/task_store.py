"""The tasks table in DynamoDB: the repository of tasks, their timelines and idempotency records.

Every status change is one conditional write (``replace_if``), built by
app/adapters/update_expression.py; the items' format is app/adapters/task_item.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from app.adapters import aws, idempotency_records, task_listing, task_search
from app.adapters.sharding import ShardCounts
from app.adapters.task_item import (
    CLAIM_EVENTS,
    DUE_SHARDS,
    EVENT_PREFIX,
    ID_PREFIX_CHARS,
    TASK_SK,
    claim_event_fields,
    claim_events_of,
    event_fields,
    events_from_item,
    events_to_item,
    final_events_of,
    from_item,
    result_text,
    task_key,
    to_item,
)
from app.adapters.update_expression import Update
from app.domain.claims import FirstClaim
from app.domain.errors import (
    AlreadyRetried,
    CancelRequested,
    IdempotencyKeyInFlight,
    IdempotencyKeyTaken,
    InvalidTransition,
    StoreUnavailable,
    TaskNotFound,
)
from app.domain.idempotency import IdempotencyRecord
from app.domain.listing import TaskPage, TaskQuery
from app.domain.task import Task, TaskStatus
from app.domain.timeline import TaskEvent, created_event

ID_PREFIX_INDEX = "by_id_prefix"
BY_DUE = "by_due"


@dataclass(frozen=True)
class DueTask:
    task_id: str
    run_at: int


class TaskStore(aws.DynamoDBTable):
    """Tasks in DynamoDB; every state change is a conditional write."""

    def __init__(self, table_name: str, dynamodb: Any = None, shards: ShardCounts | None = None):
        super().__init__(table_name, dynamodb)
        self._shards = shards

    @property
    def shards(self) -> ShardCounts:
        """The listing indexes' shard counts: given, or from the target rate in the settings."""
        if self._shards is None:
            from app.settings import get_settings

            self._shards = ShardCounts.for_rate(get_settings().target_tasks_per_second)
        return self._shards

    def add(self, task: Task, idempotency: IdempotencyRecord | None = None, now: float = 0) -> None:
        """Store a new task. Its "created" event is the task item itself (see ``events``).

        With an idempotency record, the task and the record are one transaction:
        IdempotencyKeyTaken (with the record found) if an unexpired one holds its key.
        """
        put = {
            "TableName": self.table_name,
            "Item": to_item(task, self.shards),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        if idempotency is None:
            self._call("put_item", **put)
            return
        record = idempotency_records.put_if_absent(self.table_name, idempotency, now)
        reasons = self._transact([{"Put": put}, {"Put": record}])
        if reasons is not None:
            self._idempotency_refusal(reasons[1])
            raise StoreUnavailable(f"DynamoDB refused the new task: {[r.get('Code') for r in reasons]}")

    def _transact(self, items: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """Run a transaction: None when it went through, each item's cancellation reason when it didn't."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.dynamodb.transact_write_items(TransactItems=items)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            reasons = exc.response.get("CancellationReasons")
            if code != "TransactionCanceledException" or not reasons:
                raise StoreUnavailable(f"DynamoDB transact_write_items failed: {code}") from exc
            if any(reason.get("Code") == "TransactionConflict" for reason in reasons):
                # Another transaction is writing one of these items right now (the same Idempotency-Key).
                raise IdempotencyKeyInFlight() from exc
            return reasons
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB transact_write_items failed: {exc}") from exc
        return None

    @staticmethod
    def _idempotency_refusal(reason: dict[str, Any]) -> None:
        if reason.get("Code") == "ConditionalCheckFailed" and reason.get("Item"):
            raise IdempotencyKeyTaken(idempotency_records.from_item(reason["Item"]))

    def idempotency_record(self, scope: str) -> IdempotencyRecord | None:
        response = self._call(
            "get_item",
            TableName=self.table_name,
            Key=idempotency_records.record_key(scope),
            ConsistentRead=True,
        )
        return idempotency_records.from_item(response["Item"]) if "Item" in response else None

    def add_idempotency_record(self, record: IdempotencyRecord, now: float) -> None:
        """Keep the answer to a request that wrote nothing else (a repeated retry); IdempotencyKeyTaken."""
        try:
            self._call("put_item", **idempotency_records.put_if_absent(self.table_name, record, now))
        except self.dynamodb.exceptions.ConditionalCheckFailedException as exc:
            old = exc.response.get("Item")
            raise IdempotencyKeyTaken(idempotency_records.from_item(old) if old else None) from exc

    def due(self, until: int, limit: int = 1000) -> list[DueTask]:
        """SCHEDULED tasks whose run_at is at or before ``until``, soonest first (by_due, keys only)."""
        found: list[DueTask] = []
        for shard in range(DUE_SHARDS):
            request: dict[str, Any] = {
                "TableName": self.table_name,
                "IndexName": BY_DUE,
                "KeyConditionExpression": "due_pk = :p AND due_sk <= :until",
                "ExpressionAttributeValues": {":p": {"S": f"DUE#{shard}"}, ":until": {"S": f"{until:010d}~"}},
                "Limit": limit,
            }
            taken = 0
            while taken < limit:
                response = self._call("query", **request)
                for item in response.get("Items", []):
                    run_at, _, task_id = item["due_sk"]["S"].partition("#")
                    found.append(DueTask(task_id, int(run_at)))
                    taken += 1
                if "LastEvaluatedKey" not in response:
                    break
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return sorted(found, key=lambda due: due.run_at)[:limit]

    def add_events(self, events: list[TaskEvent]) -> None:
        """Record events in one write: one timeline item per task, in the order given."""
        by_task: dict[str, list[TaskEvent]] = {}
        for event in events:
            by_task.setdefault(event.task_id, []).append(event)
        items = [events_to_item(task_events) for task_events in by_task.values()]
        self.batch_write([{"PutRequest": {"Item": item}} for item in items], "events")

    def events(self, task_id: str) -> list[TaskEvent]:
        """The task's timeline, oldest first: its "created" event, then every event recorded.

        One Query over the task's partition reads the task item (which is the
        created event) and its timeline items together.
        """
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"TASK#{task_id}"}},
        }
        events: list[TaskEvent] = []
        while True:
            response = self._call("query", **request)
            for item in response.get("Items", []):
                if item["sk"]["S"] == TASK_SK:
                    events.append(created_event(from_item(item)))
                    events.extend(claim_events_of(item))
                    if "final_events" in item:
                        events.extend(final_events_of(item))
                elif item["sk"]["S"].startswith(EVENT_PREFIX):
                    events.extend(events_from_item(item))
            if "LastEvaluatedKey" not in response:
                # Stable: events of one millisecond keep their item's and writer's order.
                return sorted(events, key=lambda event: event.at_ms)
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def get(self, task_id: str) -> Task:
        response = self._call(
            "get_item", TableName=self.table_name, Key=task_key(task_id), ConsistentRead=True
        )
        if "Item" not in response:
            raise TaskNotFound(task_id)
        return from_item(response["Item"])

    def get_many(self, task_ids: list[str]) -> dict[str, Task]:
        """The tasks that exist among ``task_ids``, in as few BatchGetItem calls as possible."""
        keys = [task_key(task_id) for task_id in dict.fromkeys(task_ids)]
        tasks = (from_item(item) for item in self.batch_get(keys, ConsistentRead=True))
        return {task.id: task for task in tasks}

    def find_by_id_prefix(self, prefix: str, limit: int) -> list[Task]:
        """Up to ``limit`` tasks whose id starts with ``prefix`` (2 characters at least), by id.

        One Query on the keys-only index, then the tasks in one BatchGetItem.
        """
        if len(prefix) < ID_PREFIX_CHARS:
            raise ValueError(f"an id prefix has at least {ID_PREFIX_CHARS} characters")
        response = self._call(
            "query",
            TableName=self.table_name,
            IndexName=ID_PREFIX_INDEX,
            KeyConditionExpression="id_prefix = :p AND begins_with(#id, :prefix)",
            ExpressionAttributeNames={"#id": "id"},
            ExpressionAttributeValues={":p": {"S": prefix[:ID_PREFIX_CHARS]}, ":prefix": {"S": prefix}},
            Limit=limit,
        )
        ids = [item["id"]["S"] for item in response.get("Items", [])]
        found = self.get_many(ids)
        return [found[task_id] for task_id in ids if task_id in found]

    def list(self, query: TaskQuery, page_token: str | None = None) -> TaskPage:
        """A page of ``query``, newest first: an index's or a word's shards, merged; the tasks in one read."""
        if query.words:
            listed = task_search.SearchListing(self, self.shards).page(query, page_token)
        else:
            listed = task_listing.ShardedListing(self._call, self.table_name, self.shards).page(
                query, page_token
            )
        found = self.get_many(listed.task_ids)
        # A task expired (TTL) between the index read and this one is simply not listed.
        tasks = [found[task_id] for task_id in listed.task_ids if task_id in found]
        return TaskPage(tasks=tasks, next_token=listed.next_token)

    def _moved_in_the_indexes(self, update: Update, task_id: str, task_type: str, listed: str) -> None:
        """Sets the keys that move a task to ``listed`` (a status or a retry state) in the listing indexes."""
        update.set_all(task_listing.status_keys(task_id, task_type, listed, self.shards))

    def replace_if(
        self,
        new: Task,
        expected: Task,
        final_events: Sequence[TaskEvent] = (),
        claim_events: Sequence[TaskEvent] = (),
    ) -> Task:
        """Write ``new`` only if the stored task still has ``expected``'s status and attempt.

        This is the optimistic-concurrency step behind every status change: of
        two writers that read the same state, exactly one wins; the loser gets
        InvalidTransition naming the status it lost to.

        ``final_events``, for a move to a final status only, are the timeline
        events of that last hop, kept on the task item itself: no write of
        their own (nothing writes the task's timeline after its end).
        ``claim_events``, for a claim (a move to a new attempt), are that
        claim's events: added to the task item's own list by the same write.
        """
        update = Update().set_all(
            {
                "status": {"S": new.status.value},
                "status_msg": {"S": new.status_msg},
                "attempt": {"N": str(new.attempt)},
                "lease_expires": {"N": str(new.lease_expires)},
                "ttl": {"N": str(new.ttl)},
            }
        )
        listed = task_listing.listed_status(new)
        if listed != task_listing.listed_status(expected):
            # Only a status change, or a retry state's start or end, moves the task in the listing indexes.
            self._moved_in_the_indexes(update, new.id, new.task_type, listed)
        if new.gave_up and not expected.gave_up:
            update.set("gave_up", {"BOOL": True})
        if final_events:
            if not new.status.is_terminal:
                raise ValueError("final events go with a move to a final status only")
            update.set("final_events", {"L": [{"M": event_fields(event)} for event in final_events]})
        if claim_events:
            update.append(CLAIM_EVENTS, [{"M": claim_event_fields(event)} for event in claim_events])
        for name, value, written in (
            ("updated_time", new.updated_time, new.updated_time is not None),
            ("progress", new.progress, new.progress is not None),
            ("started_ms", new.started_ms, new.started_ms not in (None, expected.started_ms)),
            ("finished_ms", new.finished_ms, new.finished_ms not in (None, expected.finished_ms)),
            ("redispatches", new.redispatches, new.redispatches != expected.redispatches),
        ):
            if written:
                update.set(name, {"N": str(value)})
        if new.result is not None:
            update.set("result", {"S": result_text(new.result)})
        if new.cancel_requested and not expected.cancel_requested:
            update.set("cancel_requested", {"S": new.cancel_requested})
        if new.retry_at != expected.retry_at:
            # Set when an attempt crashes (its backoff), removed when the next one starts.
            if new.retry_at is None:
                update.remove("retry_at")
            else:
                update.set("retry_at", {"N": str(new.retry_at)})
        if expected.status is TaskStatus.SCHEDULED and new.status is not TaskStatus.SCHEDULED:
            update.remove("due_pk", "due_sk")
        # Of two writers that read the same state (a worker's claim, a reconciler's
        # re-send, an API move), one wins; a task without redispatches has no attribute.
        update.require_equal("status", {"S": expected.status.value})
        update.require_equal("attempt", {"N": str(expected.attempt)})
        update.require_absent_or_equal("redispatches", {"N": str(expected.redispatches)})
        if not expected.cancel_requested:
            # A writer that did not see a cancel request loses to it, and learns of it (CancelRequested).
            update.require_absent("cancel_requested")
        try:
            self._call(
                "update_item",
                TableName=self.table_name,
                Key=task_key(new.id),
                **update.arguments(),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException as exc:
            old = exc.response.get("Item")
            if not old:
                raise TaskNotFound(new.id) from exc
            current = from_item(old)
            if (current.status, current.attempt) == (
                expected.status,
                expected.attempt,
            ) and current.cancel_requested:
                raise CancelRequested(current, new.status.value) from exc
            raise InvalidTransition(new.id, old["status"]["S"], new.status.value) from exc
        return new

    def claim_first_attempt(
        self, task_id: str, task_type: str, now: float, lease_expires: int, events: Sequence[TaskEvent] = ()
    ) -> FirstClaim:
        """Start attempt 1 of a task still CREATED, in one conditional write that also reads it.

        ``events`` (the claim's: publish, delivery, start) are kept on the task
        item by that write, so no crash after it loses them.

        A worker's first delivery of a task is the common case: this claims it
        without reading it first. Otherwise nothing is written and the task as
        it stands comes back (None if it no longer exists), for the worker to
        decide what this delivery is (a duplicate, a busy task, a resume).
        """
        update = Update().set_all(
            {
                "status": {"S": TaskStatus.IN_PROGRESS.value},
                "status_msg": {"S": "attempt 1 started"},
                "attempt": {"N": "1"},
                "lease_expires": {"N": str(lease_expires)},
                "updated_time": {"N": str(int(now))},
                "started_ms": {"N": str(int(now * 1000))},
            }
        )
        self._moved_in_the_indexes(update, task_id, task_type, TaskStatus.IN_PROGRESS.value)
        if events:
            update.append(CLAIM_EVENTS, [{"M": claim_event_fields(event)} for event in events])
        update.require_equal("status", {"S": TaskStatus.CREATED.value}).require_equal("attempt", {"N": "0"})
        try:
            response = self._call(
                "update_item",
                TableName=self.table_name,
                Key=task_key(task_id),
                **update.arguments(),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException as exc:
            old = exc.response.get("Item")
            return FirstClaim(claimed=None, current=from_item(old) if old else None)
        return FirstClaim(claimed=from_item(response["Attributes"]), current=None)

    def add_retry(
        self, original: Task, retry: Task, idempotency: IdempotencyRecord | None = None, now: float = 0
    ) -> None:
        """Store ``retry`` and mark ``original`` retried as it, in one transaction, once.

        The mark is conditional (the original is FAILED and not retried yet), so
        of two retries of one task exactly one creates a task: the other gets
        AlreadyRetried naming the retry that won. An idempotency record joins
        the transaction (IdempotencyKeyTaken if one holds its key).
        """
        mark = {
            "TableName": self.table_name,
            "Key": task_key(original.id),
            "UpdateExpression": "SET retried_as = :retry",
            "ConditionExpression": "#status = :failed AND attribute_not_exists(retried_as)",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":retry": {"S": retry.id},
                ":failed": {"S": TaskStatus.FAILED.value},
            },
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        put = {
            "TableName": self.table_name,
            "Item": to_item(retry, self.shards),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        items = [{"Update": mark}, {"Put": put}]
        if idempotency is not None:
            items.append({"Put": idempotency_records.put_if_absent(self.table_name, idempotency, now)})
        reasons = self._transact(items)
        if reasons is None:
            return
        if idempotency is not None:
            self._idempotency_refusal(reasons[2])
        reason = reasons[0]
        if reason.get("Code") != "ConditionalCheckFailed":
            raise StoreUnavailable(f"DynamoDB refused the retry: {[r.get('Code') for r in reasons]}")
        current = reason.get("Item")
        if not current:
            raise TaskNotFound(original.id)
        if "retried_as" in current:
            raise AlreadyRetried(original.id, current["retried_as"]["S"])
        raise InvalidTransition(original.id, current["status"]["S"], "a retry")


@lru_cache
def for_table(table_name: str) -> TaskStore:
    """One store per table per process, so warm invocations reuse its client."""
    return TaskStore(table_name)
