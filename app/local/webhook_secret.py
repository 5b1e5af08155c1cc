"""The webhook signing secret of `make run`: WEBHOOK_SECRET, or one made once per data folder."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from app.domain.webhooks import new_secret

FILE_NAME = "webhook-secret"


def ensure(data_dir: Path) -> tuple[str, bool]:
    """The secret WEBHOOK_SECRET holds, or the data folder's (made on first use); and whether it was set."""
    given = os.environ.get("WEBHOOK_SECRET", "").strip()
    if given:
        return given, True
    path = data_dir / FILE_NAME
    if path.exists():
        secret = path.read_text().strip()
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        secret = new_secret(secrets.token_bytes(32))
        path.touch(mode=0o600)
        path.write_text(secret + "\n")
    os.environ["WEBHOOK_SECRET"] = secret
    return secret, False
