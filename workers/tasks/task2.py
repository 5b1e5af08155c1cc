"""TASK2: counts the words of data.text, reporting progress; fails when there is no text.

Its result: {"words": n}.
"""

from __future__ import annotations

from workers.contract import TaskFailure, TaskOutcome, TaskRun, TaskType, make_handler

PROGRESS_STEPS = 4

TASK_TYPE = TaskType(
    name="TASK2",
    description="Counts the words of data.text, reporting progress. Fails when data.text is not a string.",
    # Counting words takes milliseconds; a few writes of progress, a second or two.
    longest_run_seconds=2,
    # Short runs: five to a batch still start within seconds of each other.
    batch_size=5,
    sample_data={"text": "the quick brown fox"},
    # Found by the words it counts (the first 16 distinct ones: app/domain/search.py).
    searchable=("text",),
)


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


handler = make_handler(TASK_TYPE, run)
