"""The task item: how a task, its timeline and its keys are written in DynamoDB's attribute values.

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

Pure: no I/O. The repository (app/adapters/task_store.py) reads and writes
items of this shape.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from app import observability
from app.adapters import task_listing
from app.adapters.sharding import ShardCounts
from app.domain import rules
from app.domain.errors import DomainError
from app.domain.task import Task, TaskStatus
from app.domain.timeline import ErrorInfo, Hop, TaskEvent
from app.domain.tracing import TraceContext

TASK_SK = "TASK"
EVENT_PREFIX = "EVENT#"
ID_PREFIX_CHARS = 2
# SCHEDULED tasks are spread over this many due_pk values (by their id's first
# hex digit), each under a partition's 1,000 writes a second; the scheduler
# reads them all. Grow it only by reading the old shards as well.
DUE_SHARDS = 4
# The task item's list of the events of each claim (the publish hop, the delivery that
# claimed it, the start or resume): written by the claim itself, so that an attempt that
# dies before its next write (kill -9, a Lambda timeout) still shows how it began.
CLAIM_EVENTS = "claim_events"


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


# Written once, with the task: ShardCounts.search grows with targetTasksPerSecond, and a word's entry
# must be deleted from the partition it was put in, whatever the count is by then.
SEARCH_SHARDS = "search_shards"


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
        **task_listing.index_keys(task.id, task.task_type, task_listing.listed_status(task), shards),
        "id_prefix": {"S": task.id[:ID_PREFIX_CHARS]},
        # The search shards its words are indexed under, for good (app/adapters/search_index.py).
        SEARCH_SHARDS: {"N": str(shards.search)},
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
    if task.retry_at is not None:
        item["retry_at"] = {"N": str(task.retry_at)}
    if task.gave_up:
        item["gave_up"] = {"BOOL": True}
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
            gave_up=item.get("gave_up", {}).get("BOOL") is True,
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


def event_fields(event: TaskEvent) -> dict[str, Any]:
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
        "events": {"L": [{"M": event_fields(event)} for event in events]},
        "ttl": {"N": str(max(event.expires for event in events))},
    }


def final_events_of(item: dict[str, Any]) -> list[TaskEvent]:
    """The events a task item holds of its last hop (written with the move to a final status)."""
    task_id = item["pk"]["S"].removeprefix("TASK#")
    expires = int(item["ttl"]["N"])
    return [_event_from_fields(task_id, expires, entry["M"]) for entry in item["final_events"]["L"]]


def claim_event_fields(event: TaskEvent) -> dict[str, Any]:
    """An event of a claim, as the task item keeps it: without ``since_created_ms``.

    The first claim writes without reading the task, so it does not know when
    the task was created; the reader works it out from the item.
    """
    fields = event_fields(event)
    del fields["since_created_ms"]
    return fields


def claim_events_of(item: dict[str, Any]) -> list[TaskEvent]:
    """The events each claim of the task wrote with it (its publish, delivery and start)."""
    task_id = item["pk"]["S"].removeprefix("TASK#")
    expires, created_ms = int(item["ttl"]["N"]), int(item["created_ms"]["N"])
    events = []
    for entry in item.get(CLAIM_EVENTS, {}).get("L", []):
        fields = entry["M"]
        since = max(0, int(fields["at_ms"]["N"]) - created_ms)
        events.append(_event_from_fields(task_id, expires, {**fields, "since_created_ms": {"N": str(since)}}))
    return events


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
