"""TASK2: counts the words of data.text, reporting progress; fails when there is no text.

Its result: {"words": n}.
"""

from __future__ import annotations

from workers.consumer import TaskFailure, TaskOutcome, TaskRun, make_handler

PROGRESS_STEPS = 4


def run(task: TaskRun) -> TaskOutcome:
    text = task.data.get("text")
    if not isinstance(text, str):
        raise TaskFailure("data.text must be a string")
    lines = text.splitlines() or [""]
    chunk = max(1, len(lines) // PROGRESS_STEPS)
    words = 0
    for start in range(0, len(lines), chunk):
        words += sum(len(line.split()) for line in lines[start : start + chunk])
        done = min(len(lines), start + chunk)
        task.report_progress(done * 100 // len(lines), f"{done} of {len(lines)} lines")
    return TaskOutcome(f"counted {words} word{'s' if words != 1 else ''}", {"words": words})


# Counting words takes milliseconds; a few writes of progress, a second or two.
handler = make_handler("TASK2", run, max_run_seconds=2)
