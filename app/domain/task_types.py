"""The task types this service runs: the one list everything else follows.

Adding a type: an entry here, a module in ``workers/`` named after it in lower
case, and its function, queue, DLQ and subscription in ``serverless.yml``
(tests fail until all of them exist).
"""

TASK_TYPES: dict[str, str] = {
    "TASK1": "Waits data.duration_seconds (default 2), then completes. "
    "data.fail=true makes it fail with data.fail_message.",
    "TASK2": "Counts the words of data.text, reporting progress. Fails when data.text is not a string.",
}


def worker_module(task_type: str) -> str:
    """The module in ``workers/`` that runs this task type."""
    return f"workers.{task_type.lower()}"
