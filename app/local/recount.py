"""Exact task counts after any crash: recounted from the restored tasks, in the emulator, on restore.

The counts (app/adapters/aggregates.py) follow the table's stream, and the
stream is not kept across a restart: the changes still in it when the
process stopped would be missing from the counts for good. When a table is
restored (app/local/persistence.py), before anything can read or write it,
its counts items are replaced with the tasks it holds, counted in memory
(a scan through the API costs 35 s at 20,000 tasks: moto pages a scan from
the start each time). created_total can't be recounted (expired tasks are
gone): it keeps what it was, and at least the tasks there are.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from app.adapters.aggregates import COUNTED, counts_key
from app.adapters.task_item import TASK_SK
from app.domain.task import TaskStatus, retry_state_of

COUNTS_SK = "COUNTS"

# A restored record: {"h": hash key, "r": range key, "i": attributes}, as the journal keeps it.
Record = dict[str, Any]


def _is_counts(record: Record) -> bool:
    return record["h"].get("S", "").startswith("COUNTS#") and record["r"] == {"S": COUNTS_SK}


def recounted(records: list[Record]) -> list[Record]:
    """``records`` with their counts items replaced by counts of the tasks among them (one per type)."""
    by_type: dict[str, Counter[str]] = {}
    created: Counter[str] = Counter()
    kept: list[Record] = []
    for record in records:
        if _is_counts(record):
            task_type = record["h"]["S"].split("#")[1]
            created[task_type] += int(record["i"].get("created_total", {}).get("N", "0"))
            continue
        kept.append(record)
        if record["r"] == {"S": TASK_SK}:
            attributes = record["i"]
            counted = by_type.setdefault(attributes["task_type"]["S"], Counter())
            status = attributes["status"]["S"]
            counted[status] += 1
            retry_at = attributes.get("retry_at", {}).get("N")
            state = retry_state_of(
                status, retry_at and int(retry_at), attributes.get("gave_up", {}).get("BOOL") is True
            )
            if state:
                counted[state.name] += 1  # a part of its status's count, as the changes function keeps it
    for task_type in sorted({*by_type, *created}):
        statuses = by_type.get(task_type, Counter())
        key = counts_key(task_type, 0)
        attributes = {**key, **{name: {"N": str(statuses[name])} for name in COUNTED}}
        tasks = sum(statuses[status.value] for status in TaskStatus)
        attributes["created_total"] = {"N": str(max(created[task_type], tasks))}
        kept.append({"h": key["pk"], "r": key["sk"], "i": attributes})
    return kept
