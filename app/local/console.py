"""One readable console line per hop of every task, for `make run`.

Reads the table's stream like any other consumer and prints the timeline
events as the hops write them, so the console tells the same story as
GET /tasks/{id}/events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"sk": {"S": [{"prefix": "EVENT#"}]}}}}
    ],
    maximum_retry_attempts=0,
    bisect_on_error=False,
    report_batch_item_failures=False,
    on_failure_queue_logical_id=None,
)


def hop_line(image: dict[str, Any]) -> str:
    def text(name: str) -> str:
        return image.get(name, {}).get("S", "")

    def number(name: str) -> int | None:
        value = image.get(name, {}).get("N")
        return int(value) if value is not None else None

    at = datetime.fromtimestamp((number("at_ms") or 0) / 1000).strftime("%H:%M:%S.%f")[:-3]
    task_id = text("pk").removeprefix("TASK#")[:8]
    attempt = number("attempt")
    progress = number("progress")
    details = [text("message")]
    if progress is not None:
        details.insert(0, f"{progress}%")
    if attempt is not None and text("hop") != "delivered":
        details.insert(0, f"attempt {attempt}")
    return (
        f"{at}  task {task_id}  {text('hop'):<14} {text('status') or '-':<12} "
        f"+{number('since_created_ms') or 0:>6} ms  {text('source'):<14} {'  '.join(d for d in details if d)}"
    ).rstrip()


def print_hops(event: dict[str, Any], context: Any) -> None:
    for record in event["Records"]:
        print(hop_line(record["dynamodb"]["NewImage"]), flush=True)
