"""The emulator's DynamoDB tables kept on disk, so `make run` survives a restart.

Every change to an item is appended to its table's journal
(``<dir>/dynamodb/<table>.journal``, one JSON line: key and new item, or
null once deleted) and handed to the operating system at once, so a killed
process loses nothing; the journal is fsynced every ``FSYNC_SECONDS``, so a
crash of the machine loses at most that much. When a journal outgrows its
snapshot it is folded into ``<table>.snapshot`` (all items, written to a
temporary file and renamed), and so it is on a clean stop.

A table is restored when it is created again (provisioning from
serverless.yml does that at start): its items are loaded straight into the
table, without stream records, so nothing already published is published
again; the counts are recounted from the tasks restored (app/local/recount.py).
What was in flight is sent to its workers again by the runtime at start
(app/local/restart_recovery.py).

The folder and its files are readable by their owner only (app/local/private_files.py).

Queues are not kept: a message lost with the process is sent again from its
task's state (app/local/restart_recovery.py; the reconciler, later, otherwise).
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from pathlib import Path
from typing import IO, Any

from app.local import private_files, recount
from app.local.moto_patches import change_hooks, query_index
from app.local.moto_patches.write_lock import WRITE_LOCK

FSYNC_SECONDS = 1.0
# A journal is folded into its snapshot once it is this large and larger than the snapshot.
MIN_COMPACT_BYTES = 32 * 1024 * 1024


class DataDirInUse(RuntimeError):
    pass


def _line(hash_key: Any, range_key: Any, item: Any) -> str:
    record = {
        "h": hash_key.to_json(),
        "r": range_key.to_json() if range_key is not None else None,
        "i": item.to_json()["Attributes"] if item is not None else None,
    }
    return json.dumps(record, separators=(",", ":")) + "\n"


class TableFiles:
    def __init__(self, folder: Path, table_name: str):
        self.snapshot = folder / f"{table_name}.snapshot"
        self.journal = folder / f"{table_name}.journal"
        self.handle: IO[str] | None = None
        self.dirty = False

    def append(self, line: str) -> None:
        if self.handle is None:
            self.handle = private_files.open_file(self.journal, "a")
        self.handle.write(line)
        self.handle.flush()  # to the OS now: a killed process loses nothing
        self.dirty = True

    def sync(self) -> None:
        if self.handle is not None and self.dirty:
            os.fsync(self.handle.fileno())
            self.dirty = False

    def close(self) -> None:
        if self.handle is not None:
            self.sync()
            self.handle.close()
            self.handle = None

    def needs_compaction(self) -> bool:
        if not self.journal.exists():
            return False
        size = self.journal.stat().st_size
        snapshot = self.snapshot.stat().st_size if self.snapshot.exists() else 0
        return size >= MIN_COMPACT_BYTES and size > snapshot

    def remove(self) -> None:
        self.close()
        for path in (self.snapshot, self.journal):
            path.unlink(missing_ok=True)


class TableStore:
    """Journals, snapshots and restores every table of the emulator under one folder."""

    def __init__(self, data_dir: Path):
        private_files.folder(Path(data_dir))
        self.folder = private_files.folder(Path(data_dir) / "dynamodb")
        self._lock_file = private_files.open_file(Path(data_dir) / ".lock", "w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataDirInUse(f"{data_dir} is used by another running emulator") from None
        self.tables: dict[str, TableFiles] = {}
        self.live: dict[str, Any] = {}
        self.restored: dict[str, int] = {}
        self._stop = threading.Event()
        self._syncer = threading.Thread(target=self._sync_loop, name="journal-sync", daemon=True)

    def start(self) -> TableStore:
        change_hooks.on_create(self._on_create)
        change_hooks.on_change(self._on_change)
        change_hooks.on_drop(self._on_drop)
        self._syncer.start()
        return self

    def _files(self, table_name: str) -> TableFiles:
        files = self.tables.get(table_name)
        if files is None:
            files = self.tables[table_name] = TableFiles(self.folder, table_name)
        return files

    # --- listeners (called under the write lock) ---------------------------------------

    def _on_create(self, table: Any) -> None:
        with WRITE_LOCK:
            self.live[table.name] = table
            count = self._restore(table)
            if count:
                self.restored[table.name] = count
                print(f"  restored {count} items of table {table.name} from {self.folder}", flush=True)

    def _on_change(self, table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
        if self.live.get(table.name) is table:
            self._files(table.name).append(_line(hash_key, range_key, item))

    def _on_drop(self, table: Any) -> None:
        with WRITE_LOCK:
            if self.live.get(table.name) is table:
                del self.live[table.name]
                self._files(table.name).remove()
                del self.tables[table.name]

    # --- restore and compaction ----------------------------------------------------------

    def _restore(self, table: Any) -> int:
        from moto.dynamodb.models.dynamo_type import DynamoType, Item

        files = self._files(table.name)
        items: dict[tuple[str, str], dict[str, Any]] = {}
        for path in (files.snapshot, files.journal):
            if not path.exists():
                continue
            with path.open(encoding="utf-8") as lines:
                for line in lines:
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue  # a line cut short by a crash: the write was not complete
                    key = (json.dumps(record["h"], sort_keys=True), json.dumps(record["r"], sort_keys=True))
                    if record["i"] is None:
                        items.pop(key, None)
                    else:
                        items[key] = record
        # The stream was not kept: changes still in it never reached the counts (app/local/recount.py).
        for record in recount.recounted(list(items.values())) if items else []:
            hash_key = DynamoType(record["h"])
            range_key = DynamoType(record["r"]) if record["r"] is not None else None
            item = Item(hash_key, range_key, record["i"])
            if range_key is not None:
                table.items[hash_key][range_key] = item
            else:
                table.items[hash_key] = item
        query_index.forget(table)
        if items:
            self._compact(table)
        return len(items)

    def _compact(self, table: Any) -> None:
        """Write every item of ``table`` as its snapshot and start an empty journal."""
        files = self._files(table.name)
        files.close()
        partial = files.snapshot.with_suffix(".snapshot.partial")
        with private_files.open_file(partial, "w") as out:
            for item in table.all_items():
                out.write(_line(item.hash_key, item.range_key, item))
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, files.snapshot)
        files.journal.unlink(missing_ok=True)

    def _sync_loop(self) -> None:
        while not self._stop.wait(FSYNC_SECONDS):
            with WRITE_LOCK:
                for name, files in list(self.tables.items()):
                    files.sync()
                    table = self.live.get(name)
                    if table is not None and files.needs_compaction():
                        self._compact(table)

    def close(self) -> None:
        """Fold every journal into its snapshot and release the folder (on a clean stop)."""
        self._stop.set()
        if self._syncer.is_alive():
            self._syncer.join(FSYNC_SECONDS * 2)
        with WRITE_LOCK:
            for name, files in list(self.tables.items()):
                table = self.live.get(name)
                if table is not None and files.journal.exists():
                    self._compact(table)
                files.close()
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()
