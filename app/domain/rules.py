"""Input rules of the domain that the request schema cannot know alone."""

from __future__ import annotations

import json
from typing import Any

from app.domain.errors import DataTooLarge, InvalidTaskInput

MAX_STATUS_MSG_CHARS = 1000


def parse_epoch_seconds(value: Any) -> int:
    """Accept an int or a string of digits, as the seed's clients send."""
    if isinstance(value, bool):
        raise InvalidTaskInput("ttl must be epoch seconds (an integer or a string of digits)")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    raise InvalidTaskInput("ttl must be epoch seconds (an integer or a string of digits)")


def check_ttl(ttl: int, now: float) -> None:
    if ttl <= now:
        raise InvalidTaskInput(f"ttl {ttl} is in the past (now is {int(now)})")


def data_size(data: dict[str, Any]) -> int:
    return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())


def check_data_size(data: dict[str, Any], limit: int) -> None:
    size = data_size(data)
    if size > limit:
        raise DataTooLarge(size, limit)
