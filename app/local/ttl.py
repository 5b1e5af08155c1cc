"""DynamoDB's Time to Live, done by the emulator: expired items are deleted.

moto records a table's TTL setting and never acts on it, so local data would
grow for ever. Every ``sweep_seconds`` this looks through each table with TTL
enabled and deletes the items whose TTL attribute (epoch seconds) is past,
as DynamoDB's background process does (it takes up to a few days there; here
within one sweep). Deletions go through the table like any other write, so
they reach the stream (as REMOVE records), the query index and the journal,
and each sweep that removed something says so.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from app.local.moto_patches.write_lock import WRITE_LOCK

Report = Callable[[str, int], None]


def _print_report(table_name: str, removed: int) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"{stamp}  ttl: removed {removed} expired item(s) from table {table_name}", flush=True)


def _expires(item: Any, attribute: str) -> Decimal | None:
    value = item.attrs.get(attribute)
    if value is None or value.type != "N":
        return None  # DynamoDB ignores a TTL attribute that is not a number
    try:
        return Decimal(value.value)
    except InvalidOperation:
        return None


def _expired(item: Any, attribute: str, now: float) -> bool:
    expires = _expires(item, attribute)
    return expires is not None and expires < now


def sweep_table(table: Any, now: float) -> int:
    """Delete the expired items of ``table``; return how many."""
    if table.ttl.get("TimeToLiveStatus") != "ENABLED":
        return 0
    attribute = table.ttl.get("AttributeName")
    # Copy the item list under the lock (writes change the dicts it walks), look
    # without it, delete under it, checking again.
    with WRITE_LOCK:
        items = list(table.all_items())
    candidates = [item for item in items if _expired(item, attribute, now)]
    removed = 0
    for candidate in candidates:
        with WRITE_LOCK:
            current = table.get_item(candidate.hash_key, candidate.range_key)
            if current is not None and _expired(current, attribute, now):
                table.delete_item(candidate.hash_key, candidate.range_key)
                removed += 1
    return removed


def all_tables() -> list[Any]:
    from moto.dynamodb.models import dynamodb_backends

    tables: list[Any] = []
    for account in list(dynamodb_backends.values()):
        for backend in list(account.values()):
            tables.extend(list(backend.tables.values()))
    return tables


class TtlSweeper:
    def __init__(self, sweep_seconds: float, report: Report = _print_report):
        self.sweep_seconds = sweep_seconds
        self.report = report
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ttl-sweeper", daemon=True)

    def start(self) -> TtlSweeper:
        self._thread.start()
        return self

    def sweep(self, now: float | None = None) -> dict[str, int]:
        now = time.time() if now is None else now
        removed = {}
        for table in all_tables():
            count = sweep_table(table, now)
            if count:
                removed[table.name] = count
                self.report(table.name, count)
        return removed

    def _run(self) -> None:
        while not self._stop.wait(self.sweep_seconds):
            try:
                self.sweep()
            except Exception as exc:  # one failed sweep must not end TTL for the life of the emulator
                print(f"ttl: sweep failed, trying again in {self.sweep_seconds} s: {exc!r}", file=sys.stderr)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
