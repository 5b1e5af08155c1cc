"""The scheduler: SCHEDULED tasks become CREATED when their run_at comes (app/services/scheduler.py).

Runs every minute (serverless.yml schedule; locally every second, from
serverless.yml's custom.localSchedules). In AWS it also takes the tasks due
within the coming minute (SCHEDULER_LOOKAHEAD_SECONDS) and waits for each.
"""

from __future__ import annotations

from typing import Any

from app import observability
from app.adapters import task_store
from app.services.scheduler import run_due
from app.settings import get_settings

# Seconds kept back from the invocation's remaining time.
MARGIN_SECONDS = 2


@observability.lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    settings = get_settings()
    remaining = getattr(context, "get_remaining_time_in_millis", None)

    def seconds_left() -> float:
        return float("inf") if remaining is None else remaining() / 1000 - MARGIN_SECONDS

    return run_due(
        task_store.for_table(settings.table_name),
        lookahead_seconds=settings.scheduler_lookahead_seconds,
        seconds_left=seconds_left,
    )
