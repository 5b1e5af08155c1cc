"""Functions running at once on threads (the local runtime) each log their own context and task."""

from __future__ import annotations

import io
import json
import threading

from app import observability


class Context:
    memory_limit_in_mb = 256

    def __init__(self, name: str) -> None:
        self.function_name = name
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-1:000000000000:function:{name}"
        self.aws_request_id = f"request-{name}"


def test_two_functions_at_once_each_log_their_own_name_and_task():
    both_correlated = threading.Barrier(2)
    both_logged = threading.Barrier(2)

    @observability.lambda_handler
    def handler(event: dict, context: Context) -> None:
        with observability.correlated(event["task_id"]):
            both_correlated.wait(timeout=10)
            observability.get_logger().warning("working")
            both_logged.wait(timeout=10)
        observability.get_logger().warning("between tasks")

    logger = observability.get_logger()
    kept = logger.registered_handler.stream
    logger.registered_handler.stream = output = io.StringIO()
    try:
        threads = [
            threading.Thread(target=handler, args=({"task_id": f"task-of-{name}"}, Context(name)))
            for name in ("task1", "task2")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        logger.registered_handler.stream = kept
    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    working = {
        line["function_name"]: line.get("correlation_id") for line in lines if line["message"] == "working"
    }
    assert working == {"task1": "task-of-task1", "task2": "task-of-task2"}
    after = [line for line in lines if line["message"] == "between tasks"]
    assert sorted(line["function_name"] for line in after) == ["task1", "task2"]
    assert all("correlation_id" not in line for line in after)
