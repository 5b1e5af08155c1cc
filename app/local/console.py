"""One readable console line per hop of every task, for `make run`.

Reads the table's stream like any other consumer and prints the timeline
events as the hops write them (a new task item is its "created" hop), so the
console tells the same story as GET /tasks/{id}/events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.adapters.task_item import (
    CLAIM_EVENTS,
    TASK_SK,
    claim_events_of,
    events_from_item,
    final_events_of,
    from_item,
)
from app.domain.timeline import Hop, TaskEvent, created_event
from app.local.sls_config import StreamFunction

TIMELINE_PRINTER = StreamFunction(
    name="console",
    handler="app.local.console.print_hops",
    timeout=10,
    table_logical_id="",
    starting_position="TRIM_HORIZON",
    batch_size=100,
    batching_window=0,
    filter_patterns=[
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"sk": {"S": [{"prefix": "EVENT#"}, "TASK"]}}}},
        # A task's move to a final status carries that last hop's events.
        {
            "eventName": ["MODIFY"],
            "dynamodb": {"NewImage": {"sk": {"S": ["TASK"]}, "final_events": {"L": [{"exists": True}]}}},
        },
        # A claim carries its own events (publish, delivery, start).
        {
            "eventName": ["MODIFY"],
            "dynamodb": {"NewImage": {"sk": {"S": ["TASK"]}, CLAIM_EVENTS: {"L": [{"exists": True}]}}},
        },
    ],
    maximum_retry_attempts=0,
    bisect_on_error=False,
    report_batch_item_failures=False,
    on_failure_queue_logical_id=None,
)


def hop_line(event: TaskEvent) -> str:
    at = datetime.fromtimestamp(event.at_ms / 1000).strftime("%H:%M:%S.%f")[:-3]
    details = [event.message]
    if event.progress is not None:
        details.insert(0, f"{event.progress}%")
    if event.attempt is not None and event.hop is not Hop.DELIVERED:
        details.insert(0, f"attempt {event.attempt}")
    return (
        f"{at}  task {event.task_id[:8]}  {event.hop.value:<14} {event.status or '-':<12} "
        f"+{event.since_created_ms:>6} ms  {event.source:<14} {'  '.join(d for d in details if d)}"
    ).rstrip()


def events_of(record: dict[str, Any]) -> list[TaskEvent]:
    change = record["dynamodb"]
    image = change["NewImage"]
    if image["sk"]["S"] != TASK_SK:
        return events_from_item(image)
    if record["eventName"] == "INSERT":
        return [created_event(from_item(image))]
    old = change.get("OldImage", {})
    # Only what this write added: the claim events of earlier claims were printed with them.
    events = claim_events_of(image)[len(old.get(CLAIM_EVENTS, {}).get("L", [])) :]
    if "final_events" in image and "final_events" not in old:
        events += final_events_of(image)
    return events


def print_hops(event: dict[str, Any], context: Any) -> None:
    for record in event["Records"]:
        for hop in events_of(record):
            print(hop_line(hop), flush=True)
