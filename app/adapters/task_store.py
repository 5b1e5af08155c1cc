"""The tasks table in DynamoDB.

Key design (single table, chosen for what is coming):
  task item     pk=TASK#<id>  sk=TASK
  timeline      pk=TASK#<id>  sk=EVENT#...   (beside the task, never inside it)
The task item also carries the partition keys of the write-sharded listing
indexes (app/adapters/task_listing.py); timeline and other items carry none
of them, so they stay out of every index. Finding a task by the start of its
id (the dashboard's short ids):
  by_id_prefix    id_prefix (the id's first 2 hex characters), sorted by id, keys only
A sparse, keys-only index finds SCHEDULED tasks by when they are due:
  by_due          due_pk ("DUE#<shard>"), due_sk ("<run_at, 10 digits>#<id>")
only SCHEDULED task items carry due_pk and due_sk; the write that moves a
task on removes them. Idempotency records (IDEMPOTENCY#...) and webhook
deliveries (WEBHOOK#...) are items of their own, with no index attributes.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from app import observability
from app.adapters import aws, idempotency_items, task_listing
from app.domain import rules
from app.domain.claims import FirstClaim
from app.domain.errors import (
    AlreadyRetried,
    CancelRequested,
    DomainError,
    IdempotencyKeyInFlight,
    IdempotencyKeyTaken,
    InvalidTransition,
    StoreUnavailable,
    TaskNotFound,
)
from app.domain.idempotency import IdempotencyRecord
from app.domain.listing import TaskPage, TaskQuery
from app.domain.sharding import ShardCounts
from app.domain.task import Task, TaskStatus
from app.domain.timeline import ErrorInfo, Hop, TaskEvent, created_event
from app.domain.tracing import TraceContext

TASK_SK = "TASK"
EVENT_PREFIX = "EVENT#"
BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100
ID_PREFIX_INDEX = "by_id_prefix"
ID_PREFIX_CHARS = 2
BY_DUE = "by_due"
# SCHEDULED tasks are spread over this many due_pk values (by their id's first
# hex digit), each under a partition's 1,000 writes a second; the scheduler
# reads them all. Grow it only by reading the old shards as well.
DUE_SHARDS = 4


@dataclass(frozen=True)
class DueTask:
    task_id: str
    run_at: int


def due_keys(task_id: str, run_at: int) -> dict[str, Any]:
    """The by_due index's key attributes of a SCHEDULED task."""
    return {
        "due_pk": {"S": f"DUE#{int(task_id[0], 16) % DUE_SHARDS}"},
        "due_sk": {"S": f"{run_at:010d}#{task_id}"},
    }


def result_text(result: Any) -> str:
    return json.dumps(result, separators=(",", ":"), allow_nan=False)


def task_key(task_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"TASK#{task_id}"}, "sk": {"S": TASK_SK}}


def to_item(task: Task, shards: ShardCounts) -> dict[str, Any]:
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
        "list_sk": {"S": task_listing.list_sort_key(task.created_ms, task.id)},
        **task_listing.index_keys(task.id, task.task_type, task.status.value, shards),
        "id_prefix": {"S": task.id[:ID_PREFIX_CHARS]},
    }
    if task.updated_time is not None:
        item["updated_time"] = {"N": str(task.updated_time)}
    if task.retry_of is not None:
        item["retry_of"] = {"S": task.retry_of}
    trace = {
        name: {"S": value}
        for name, value in (
            ("x_amzn_trace_id", task.trace.x_amzn_trace_id),
            ("traceparent", task.trace.traceparent),
        )
        if value
    }
    if task.trace.newrelic:
        trace["newrelic"] = {"M": {name: {"S": value} for name, value in task.trace.newrelic.items()}}
    if trace:
        item["trace"] = {"M": trace}
    if task.progress is not None:
        item["progress"] = {"N": str(task.progress)}
    if task.redispatches:
        item["redispatches"] = {"N": str(task.redispatches)}
    for name in ("started_ms", "finished_ms"):
        if getattr(task, name) is not None:
            item[name] = {"N": str(getattr(task, name))}
    if task.result is not None:
        item["result"] = {"S": result_text(task.result)}
    if task.run_at is not None:
        item["run_at"] = {"N": str(task.run_at)}
        if task.status is TaskStatus.SCHEDULED:
            item.update(due_keys(task.id, task.run_at))
    if task.callback_url is not None:
        item["callback_url"] = {"S": task.callback_url}
    if task.cancel_requested is not None:
        item["cancel_requested"] = {"S": task.cancel_requested}
    return item


def from_item(item: dict[str, Any]) -> Task:
    """The task in a stored item. One that can't be read in full is still a task, marked ``unreadable``.

    A listing shows every task it finds: an item written by hand, by an older
    version or with data no encoder can write back never breaks the page.
    """
    data: dict[str, Any] = {}
    result: Any = None
    unreadable = None
    try:
        data = _data_of(item)
    except (DomainError, KeyError, TypeError) as exc:
        unreadable = f"data: {exc}"
    try:
        result = rules.parse_json(item["result"]["S"], what="result") if "result" in item else None
    except (DomainError, KeyError, TypeError) as exc:
        unreadable = f"result: {exc}"
    try:
        updated = item.get("updated_time")
        task = Task(
            id=item["id"]["S"],
            task_type=item["task_type"]["S"],
            status=TaskStatus(item["status"]["S"]),
            status_msg=item.get("status_msg", {}).get("S", ""),
            data=data,
            created_time=int(item["created_time"]["N"]),
            created_ms=int(item["created_ms"]["N"]),
            ttl=int(item["ttl"]["N"]),
            updated_time=int(updated["N"]) if updated else None,
            attempt=int(item.get("attempt", {}).get("N", "0")),
            lease_expires=int(item.get("lease_expires", {}).get("N", "0")),
            retry_of=item.get("retry_of", {}).get("S"),
            retried_as=item.get("retried_as", {}).get("S"),
            progress=int(item["progress"]["N"]) if "progress" in item else None,
            redispatches=int(item.get("redispatches", {}).get("N", "0")),
            started_ms=int(item["started_ms"]["N"]) if "started_ms" in item else None,
            finished_ms=int(item["finished_ms"]["N"]) if "finished_ms" in item else None,
            retry_at=int(item["retry_at"]["N"]) if "retry_at" in item else None,
            trace=trace_from_attribute(item.get("trace")),
            result=result,
            run_at=int(item["run_at"]["N"]) if "run_at" in item else None,
            callback_url=item.get("callback_url", {}).get("S"),
            cancel_requested=item.get("cancel_requested", {}).get("S"),
            unreadable=unreadable,
        )
    except (KeyError, TypeError, ValueError) as exc:
        task = _salvaged(item, f"{type(exc).__name__}: {exc}")
    if task.unreadable:
        observability.get_logger().error(
            "stored task unreadable", extra={"task_id": task.id, "reason": task.unreadable}
        )
    return task


def _data_of(item: dict[str, Any]) -> dict[str, Any]:
    data = rules.parse_json(item["data"]["S"])
    if not isinstance(data, dict):
        raise TypeError(f"stored data is a {type(data).__name__}, not an object")
    return data


def _salvaged(item: dict[str, Any], reason: str) -> Task:
    """What can be read of a damaged item; a status that can't be read shows as FAILED."""

    def text(name: str) -> str:
        value = item.get(name)
        return value.get("S", "") if isinstance(value, dict) and isinstance(value.get("S"), str) else ""

    def number(name: str) -> int:
        try:
            return int(item[name]["N"])
        except (KeyError, TypeError, ValueError):
            return 0

    status = text("status")
    return Task(
        id=text("id") or text("pk").removeprefix("TASK#"),
        task_type=text("task_type"),
        status=TaskStatus(status) if status in TaskStatus.__members__ else TaskStatus.FAILED,
        status_msg=text("status_msg"),
        data={},
        created_time=number("created_time"),
        created_ms=number("created_ms"),
        ttl=number("ttl"),
        unreadable=reason,
    )


def trace_from_attribute(attribute: dict[str, Any] | None) -> TraceContext:
    if not attribute:
        return TraceContext()
    fields = attribute["M"]
    return TraceContext(
        x_amzn_trace_id=fields.get("x_amzn_trace_id", {}).get("S"),
        traceparent=fields.get("traceparent", {}).get("S"),
        newrelic={name: value["S"] for name, value in fields.get("newrelic", {}).get("M", {}).items()},
    )


def _event_fields(event: TaskEvent) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "hop": {"S": event.hop.value},
        "at_ms": {"N": str(event.at_ms)},
        "since_created_ms": {"N": str(event.since_created_ms)},
        "source": {"S": event.source},
        "message": {"S": event.message},
    }
    for name in ("attempt", "progress"):
        value = getattr(event, name)
        if value is not None:
            fields[name] = {"N": str(value)}
    if event.status is not None:
        fields["status"] = {"S": event.status}
    if event.http_status is not None:
        fields["http_status"] = {"N": str(event.http_status)}
    if event.error is not None:
        error = event.error
        fields["error"] = {
            "M": {"type": {"S": error.type}, "message": {"S": error.message}, "stack": {"S": error.stack}}
        }
    return fields


def events_to_item(events: list[TaskEvent]) -> dict[str, Any]:
    """The events one writer records together for one task, as one timeline item."""
    first = events[0]
    return {
        "pk": {"S": f"TASK#{first.task_id}"},
        # Sorted by the first event's time; the random part keeps two writers' items apart.
        "sk": {"S": f"{EVENT_PREFIX}{first.at_ms:013d}#{uuid.uuid4().hex[:8]}"},
        "events": {"L": [{"M": _event_fields(event)} for event in events]},
        "ttl": {"N": str(max(event.expires for event in events))},
    }


def final_events_of(item: dict[str, Any]) -> list[TaskEvent]:
    """The events a task item holds of its last hop (written with the move to a final status)."""
    task_id = item["pk"]["S"].removeprefix("TASK#")
    expires = int(item["ttl"]["N"])
    return [_event_from_fields(task_id, expires, entry["M"]) for entry in item["final_events"]["L"]]


def events_from_item(item: dict[str, Any]) -> list[TaskEvent]:
    task_id = item["pk"]["S"].removeprefix("TASK#")
    expires = int(item["ttl"]["N"])
    return [_event_from_fields(task_id, expires, entry["M"]) for entry in item["events"]["L"]]


def _event_from_fields(task_id: str, expires: int, fields: dict[str, Any]) -> TaskEvent:
    return TaskEvent(
        task_id=task_id,
        hop=Hop(fields["hop"]["S"]),
        at_ms=int(fields["at_ms"]["N"]),
        since_created_ms=int(fields["since_created_ms"]["N"]),
        source=fields["source"]["S"],
        expires=expires,
        status=fields.get("status", {}).get("S"),
        attempt=int(fields["attempt"]["N"]) if "attempt" in fields else None,
        progress=int(fields["progress"]["N"]) if "progress" in fields else None,
        message=fields.get("message", {}).get("S", ""),
        http_status=int(fields["http_status"]["N"]) if "http_status" in fields else None,
        error=_error_from(fields["error"]["M"]) if "error" in fields else None,
    )


def _error_from(fields: dict[str, Any]) -> ErrorInfo:
    return ErrorInfo(
        type=fields["type"]["S"], message=fields["message"]["S"], stack=fields.get("stack", {}).get("S", "")
    )


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
        record = idempotency_items.put_if_absent(self.table_name, idempotency, now)
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
            raise IdempotencyKeyTaken(idempotency_items.from_item(reason["Item"]))

    def idempotency_record(self, scope: str) -> IdempotencyRecord | None:
        response = self._call(
            "get_item",
            TableName=self.table_name,
            Key=idempotency_items.record_key(scope),
            ConsistentRead=True,
        )
        return idempotency_items.from_item(response["Item"]) if "Item" in response else None

    def add_idempotency_record(self, record: IdempotencyRecord, now: float) -> None:
        """Keep the answer to a request that wrote nothing else (a repeated retry); IdempotencyKeyTaken."""
        try:
            self._call("put_item", **idempotency_items.put_if_absent(self.table_name, record, now))
        except self.dynamodb.exceptions.ConditionalCheckFailedException as exc:
            old = exc.response.get("Item")
            raise IdempotencyKeyTaken(idempotency_items.from_item(old) if old else None) from exc

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
        for start in range(0, len(items), BATCH_WRITE_LIMIT):
            requests = [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH_WRITE_LIMIT]]
            pending = {self.table_name: requests}
            for retry in range(5):  # unprocessed items were throttled: send them again, after a pause
                pending = self._call("batch_write_item", RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(0.05 * 2**retry)
            else:
                raise StoreUnavailable("DynamoDB kept events unprocessed")

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
        found: dict[str, Task] = {}
        unique = list(dict.fromkeys(task_ids))
        for start in range(0, len(unique), BATCH_GET_LIMIT):
            pending: dict[str, Any] = {
                self.table_name: {
                    "Keys": [task_key(task_id) for task_id in unique[start : start + BATCH_GET_LIMIT]],
                    "ConsistentRead": True,
                }
            }
            for retry in range(5):  # unprocessed keys were throttled: ask again, after a pause
                response = self._call("batch_get_item", RequestItems=pending)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    task = from_item(item)
                    found[task.id] = task
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    break
                time.sleep(0.05 * 2**retry)
            else:
                raise StoreUnavailable("DynamoDB kept keys unprocessed")
        return found

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
        """A page of ``query``, newest first: every shard of one index, merged; the tasks in one read."""
        listed = task_listing.ShardedListing(self._call, self.table_name, self.shards).page(query, page_token)
        found = self.get_many(listed.task_ids)
        # A task expired (TTL) between the index read and this one is simply not listed.
        tasks = [found[task_id] for task_id in listed.task_ids if task_id in found]
        return TaskPage(tasks=tasks, next_token=listed.next_token)

    def _status_keys_update(
        self, task_id: str, task_type: str, status: TaskStatus, names: dict[str, str], values: dict[str, Any]
    ) -> str:
        """The SET actions that move a task to ``status`` in the listing indexes (names and values added)."""
        actions = ""
        for number, (attribute, value) in enumerate(
            task_listing.status_keys(task_id, task_type, status.value, self.shards).items()
        ):
            names[f"#k{number}"] = attribute
            values[f":k{number}"] = value
            actions += f", #k{number} = :k{number}"
        return actions

    def replace_if(self, new: Task, expected: Task, final_events: Sequence[TaskEvent] = ()) -> Task:
        """Write ``new`` only if the stored task still has ``expected``'s status and attempt.

        This is the optimistic-concurrency step behind every status change: of
        two writers that read the same state, exactly one wins; the loser gets
        InvalidTransition naming the status it lost to.

        ``final_events``, for a move to a final status only, are the timeline
        events of that last hop, kept on the task item itself: no write of
        their own (nothing writes the task's timeline after its end).
        """
        names = {"#status": "status", "#ttl": "ttl"}
        values: dict[str, Any] = {
            ":status": {"S": new.status.value},
            ":msg": {"S": new.status_msg},
            ":attempt": {"N": str(new.attempt)},
            ":lease": {"N": str(new.lease_expires)},
            ":ttl": {"N": str(new.ttl)},
            ":expected_status": {"S": expected.status.value},
            ":expected_attempt": {"N": str(expected.attempt)},
            ":expected_redispatches": {"N": str(expected.redispatches)},
        }
        update = "SET #status = :status, status_msg = :msg, attempt = :attempt, lease_expires = :lease"
        update += ", #ttl = :ttl"
        if new.status is not expected.status:
            # Only a status change moves the task in the listing indexes.
            update += self._status_keys_update(new.id, new.task_type, new.status, names, values)
        if new.updated_time is not None:
            update += ", updated_time = :updated"
            values[":updated"] = {"N": str(new.updated_time)}
        if new.progress is not None:
            update += ", progress = :progress"
            values[":progress"] = {"N": str(new.progress)}
        if final_events:
            if not new.status.is_terminal:
                raise ValueError("final events go with a move to a final status only")
            update += ", final_events = :final_events"
            values[":final_events"] = {"L": [{"M": _event_fields(event)} for event in final_events]}
        for name in ("started_ms", "finished_ms"):
            if getattr(new, name) is not None and getattr(new, name) != getattr(expected, name):
                update += f", {name} = :{name}"
                values[f":{name}"] = {"N": str(getattr(new, name))}
        if new.redispatches != expected.redispatches:
            update += ", redispatches = :redispatches"
            values[":redispatches"] = {"N": str(new.redispatches)}
        if new.result is not None:
            update += ", #result = :result"
            names["#result"] = "result"
            values[":result"] = {"S": result_text(new.result)}
        if new.cancel_requested and not expected.cancel_requested:
            update += ", cancel_requested = :cancel_requested"
            values[":cancel_requested"] = {"S": new.cancel_requested}
        removed = []
        if new.retry_at != expected.retry_at:
            # Set when an attempt crashes (its backoff), removed when the next one starts.
            if new.retry_at is None:
                removed.append("retry_at")
            else:
                update += ", retry_at = :retry_at"
                values[":retry_at"] = {"N": str(new.retry_at)}
        if expected.status is TaskStatus.SCHEDULED and new.status is not TaskStatus.SCHEDULED:
            removed += ["due_pk", "due_sk"]
        if removed:
            update += " REMOVE " + ", ".join(removed)
        # Of two writers that read the same state (a worker's claim, a reconciler's
        # re-send, an API move), one wins; a task without redispatches has no attribute.
        condition = "#status = :expected_status AND attempt = :expected_attempt AND " + (
            "(attribute_not_exists(redispatches) OR redispatches = :expected_redispatches)"
        )
        if not expected.cancel_requested:
            # A writer that did not see a cancel request loses to it, and learns of it (CancelRequested).
            condition += " AND attribute_not_exists(cancel_requested)"
        try:
            self._call(
                "update_item",
                TableName=self.table_name,
                Key=task_key(new.id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
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

    def claim_first_attempt(self, task_id: str, task_type: str, now: float, lease_expires: int) -> FirstClaim:
        """Start attempt 1 of a task still CREATED, in one conditional write that also reads it.

        A worker's first delivery of a task is the common case: this claims it
        without reading it first. Otherwise nothing is written and the task as
        it stands comes back (None if it no longer exists), for the worker to
        decide what this delivery is (a duplicate, a busy task, a resume).
        """
        names = {"#status": "status"}
        values: dict[str, Any] = {
            ":in_progress": {"S": TaskStatus.IN_PROGRESS.value},
            ":msg": {"S": "attempt 1 started"},
            ":one": {"N": "1"},
            ":zero": {"N": "0"},
            ":lease": {"N": str(lease_expires)},
            ":now": {"N": str(int(now))},
            ":now_ms": {"N": str(int(now * 1000))},
            ":created": {"S": TaskStatus.CREATED.value},
        }
        update = "SET #status = :in_progress, status_msg = :msg, attempt = :one, lease_expires = :lease, "
        update += "updated_time = :now, started_ms = :now_ms" + self._status_keys_update(
            task_id, task_type, TaskStatus.IN_PROGRESS, names, values
        )
        try:
            response = self._call(
                "update_item",
                TableName=self.table_name,
                Key=task_key(task_id),
                UpdateExpression=update,
                ConditionExpression="#status = :created AND attempt = :zero",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
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
            items.append({"Put": idempotency_items.put_if_absent(self.table_name, idempotency, now)})
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
