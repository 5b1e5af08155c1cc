"""The webhook signing secret of `make run`: WEBHOOK_SECRET, or one made once per data folder (0600)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from app.domain.webhooks import new_secret
from app.local import private_files

FILE_NAME = "webhook-secret"


def ensure(data_dir: Path) -> tuple[str, bool]:
    """The secret WEBHOOK_SECRET holds, or the data folder's (made on first use); and whether it was set."""
    given = os.environ.get("WEBHOOK_SECRET", "").strip()
    if given:
        return given, True
    path = private_files.folder(data_dir) / FILE_NAME
    if path.exists():
        os.chmod(path, private_files.FILE_MODE)  # one made by an earlier version may be 0644
        secret = path.read_text().strip()
    else:
        secret = new_secret(secrets.token_bytes(32))
        private_files.write_text(path, secret + "\n")
    os.environ["WEBHOOK_SECRET"] = secret
    return secret, False
