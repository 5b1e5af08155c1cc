"""`make run` is back to full speed after a crash: what was in flight runs again within 15 s (issue 18).

Unlike tests/e2e/test_restart.py, the reconciler keeps its own pace here
(RECONCILE_AFTER_SECONDS 120, every minute): it is the runtime itself that
knows at start its queues are gone and its attempts died with it.
"""

from __future__ import annotations

import re
import time

import boto3
import pytest

from app.adapters.aggregates import TaskAggregates
from app.local import sls_config
from tests.conftest import start_stack, wait_until
from tests.e2e.test_restart import all_completed, create, states

pytestmark = pytest.mark.e2e
RESUMED_WITHIN_SECONDS = 15


def counts_of(log: str) -> tuple[dict[str, int], int]:
    """The stack's task counts, read from its emulator (the address and table its banner prints)."""
    endpoint, table = re.findall(r"AWS emulator \(moto\) at (\S+); table (\S+)", log)[-1]
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=sls_config.load().region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    by_status, created = TaskAggregates(table, dynamodb, counter_shards=1).counts()
    return {status: count for status, count in by_status.items() if count}, created


def test_after_a_kill_9_every_task_in_flight_runs_again_within_15_s_and_the_counts_are_exact(tmp_path):
    stack = start_stack(tmp_path, LOCAL_PRINT_HOPS="false")
    # More than TASK1's 4 pollers take at once: some run, the rest wait in the queue.
    accepted = create(stack, {"duration_seconds": 1}, 10)
    wait_until(lambda: "IN_PROGRESS" in states(stack, accepted).values(), timeout=30, what="a running task")
    stack.kill()

    stack = start_stack(tmp_path, LOCAL_PRINT_HOPS="false")
    answered = time.monotonic()
    try:
        before = states(stack, accepted)
        assert None not in before.values(), before
        wait_until(
            lambda: all_completed(stack, accepted),
            timeout=RESUMED_WITHIN_SECONDS + 5,  # the last resumed ones' own second, and the polls
            interval=0.25,
            what="every task of the previous run to finish",
        )
        took = time.monotonic() - answered
        assert took < RESUMED_WITHIN_SECONDS + 3, took
        # The counts follow the stream (the changes function): exact once it has caught up.
        exact = ({"COMPLETED": len(accepted)}, len(accepted))
        wait_until(lambda: counts_of(stack.log()) == exact, timeout=10, interval=0.25, what="exact counts")
    finally:
        stack.stop()
