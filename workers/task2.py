"""TASK2: counts the words of data.text; fails when there is no text to count."""

from __future__ import annotations

from workers.consumer import TaskFailure, TaskRun, make_handler


def run(task: TaskRun) -> str:
    text = task.data.get("text")
    if not isinstance(text, str):
        raise TaskFailure("data.text must be a string")
    words = len(text.split())
    return f"counted {words} word{'s' if words != 1 else ''}"


handler = make_handler("TASK2", run)
