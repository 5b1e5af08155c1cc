"""The local data folder is its owner's alone: folders 0700, files 0600, whatever the umask.

It holds every task's data and the webhook signing secret. Folders and files
made by an earlier version (0755/0644) are tightened when next used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def folder(path: Path) -> Path:
    """``path`` as a folder only its owner can list or enter (made if missing)."""
    path.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    os.chmod(path, FOLDER_MODE)
    return path


def open_file(path: Path, mode: str) -> IO[str]:
    """``path`` opened as text ("w" or "a"), readable and writable by its owner only."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    descriptor = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)  # an existing file keeps its mode through os.open
        return os.fdopen(descriptor, mode, encoding="utf-8")
    except BaseException:
        os.close(descriptor)
        raise


def write_text(path: Path, text: str) -> None:
    with open_file(path, "w") as out:
        out.write(text)
