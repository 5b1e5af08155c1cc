"""Input rules of the domain that the request schema cannot know alone.

Everything a task holds must read back exactly as it was sent, through JSON
encoders that refuse what JSON does not define: so only standard JSON is
accepted (no NaN or Infinity, no lone surrogates), nested at most
MAX_DATA_DEPTH levels, and a ttl within MAX_TTL_SECONDS of now.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from app.domain.errors import (
    DataTooLarge,
    DomainError,
    InvalidJson,
    InvalidResult,
    InvalidTaskInput,
    TaskNotFound,
    TooDeeplyNested,
)

MAX_STATUS_MSG_CHARS = 1000
# Objects and arrays inside `data`, counted from `data` itself ({} is 1 level).
# Far below what encoders read back (pydantic stops near 255, CPython's json near 1,000).
MAX_DATA_DEPTH = 32
# A task lives at most a year; its ttl is refused beyond that.
MAX_TTL_SECONDS = 365 * 24 * 3600
# A task waits for its run_at at most a year.
MAX_RUN_AT_SECONDS = 365 * 24 * 3600
EPOCH_FORMAT = "{name} must be epoch seconds (an integer or a string of digits)"
TTL_FORMAT = EPOCH_FORMAT.format(name="ttl")
# Task ids are UUIDs as uuid4() writes them; anything else names no task and never reaches the store.
TASK_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def check_task_id(task_id: str) -> None:
    if not TASK_ID.match(task_id):
        raise TaskNotFound(task_id)


def _not_a_number(name: str) -> None:
    raise InvalidJson(f"{name} is not a JSON number")


def _too_deep(max_depth: int, what: str) -> TooDeeplyNested:
    return TooDeeplyNested(f"{what} nests objects and arrays more than {max_depth} levels deep")


def parse_json(text: str | bytes, max_depth: int = MAX_DATA_DEPTH, what: str = "data") -> Any:
    """Standard JSON only, nested at most ``max_depth`` levels: InvalidJson or TooDeeplyNested otherwise."""
    try:
        value = json.loads(text, parse_constant=_not_a_number)
    except RecursionError as exc:
        raise _too_deep(max_depth, what) from exc
    except UnicodeDecodeError as exc:
        raise InvalidJson("the body is not UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise InvalidJson(f"{exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
    except ValueError as exc:  # an integer past CPython's 4,300-digit conversion limit
        raise InvalidJson("a number has too many digits") from exc
    check_json_value(value, max_depth, what)
    return value


def parse_request_body(body: bytes) -> Any:
    """A JSON request body: standard JSON, with room for `data` (MAX_DATA_DEPTH) inside the body's object.

    UTF-8 only (RFC 8259): Python's json reads UTF-16 and UTF-32 bytes too,
    which no other part of the service (nor the stored item) expects.
    """
    try:
        try:
            # Encoded surrogates pass here to be refused as such below ("a lone surrogate").
            text = body.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise InvalidJson("the body is not UTF-8") from None
        return parse_json(text, MAX_DATA_DEPTH + 1, "the body")
    except InvalidJson as exc:
        raise InvalidJson(exc.reason, "Request body") from exc
    except TooDeeplyNested as exc:
        raise TooDeeplyNested(f"{exc}; data may nest at most {MAX_DATA_DEPTH} levels") from exc


def check_json_value(value: Any, max_depth: int, what: str = "data") -> None:
    """Refuse what a JSON encoder cannot write back: non-finite numbers, lone surrogates, deep nesting."""
    # Iterative, so no depth can exhaust the interpreter's stack here.
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            if depth >= max_depth:
                raise _too_deep(max_depth, what)
            for key, child in item.items():
                if not isinstance(key, str):
                    raise InvalidJson(f"an object key is a {type(key).__name__}, not a string")
                _check_text(key)
                pending.append((child, depth + 1))
        elif isinstance(item, list):
            if depth >= max_depth:
                raise _too_deep(max_depth, what)
            pending.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            _check_text(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise InvalidJson("a number is too large to represent (it overflows to infinity)")


def _check_text(text: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidJson(
            f"a string holds a lone surrogate ({text[exc.start]!r}): it is not valid Unicode"
        ) from exc


def parse_epoch_seconds(value: Any, name: str = "ttl") -> int:
    """An integer (1.9e9 too: JSON has one number type) or a string of digits, as the seed's clients send."""
    if isinstance(value, bool):
        raise InvalidTaskInput(EPOCH_FORMAT.format(name=name))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        digits = value.strip()
        try:
            return int(digits)
        except ValueError:
            # int() refuses strings over 4,300 digits (CPython's limit): far past any bound anyway.
            raise InvalidTaskInput(
                f"{name} {digits[:20]}... ({len(digits)} digits) is too far ahead"
            ) from None
    raise InvalidTaskInput(EPOCH_FORMAT.format(name=name))


def _shown(seconds: int) -> str:
    text = str(seconds)
    return text if len(text) <= 20 else f"{text[:20]}... ({len(text)} digits)"


def check_ttl(ttl: int, now: float) -> None:
    _check_within(ttl, "ttl", now, math.floor(now) + 1, MAX_TTL_SECONDS)


def check_run_at(run_at: int, now: float) -> None:
    """Not in the past (this very second is fine: it runs at once), at most a year ahead."""
    _check_within(run_at, "run_at", now, int(now), MAX_RUN_AT_SECONDS)


def _check_within(value: int, name: str, now: float, earliest: int, max_ahead: int) -> None:
    if value < earliest:
        raise InvalidTaskInput(f"{name} {_shown(value)} is in the past (now is {int(now)})")
    if value > now + max_ahead:
        raise InvalidTaskInput(
            f"{name} {_shown(value)} is more than {max_ahead // 86400} days ahead "
            f"(the latest accepted now is {int(now) + max_ahead})"
        )


def check_ttl_after_run_at(ttl: int, run_at: int) -> None:
    if ttl <= run_at:
        raise InvalidTaskInput(
            f"ttl {ttl} is not after run_at {run_at}: the task would expire before it runs"
        )


def data_size(data: dict[str, Any]) -> int:
    return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())


def check_data(data: dict[str, Any], limit: int) -> None:
    """Data a task can hold: standard JSON values, nested at most MAX_DATA_DEPTH, at most ``limit`` bytes."""
    check_json_value(data, MAX_DATA_DEPTH)
    size = data_size(data)
    if size > limit:
        raise DataTooLarge(size, limit)


def encode_result(result: Any, limit: int) -> str:
    """A worker's result as the compact JSON text the task stores; InvalidResult when it can't hold it."""
    try:
        check_json_value(result, MAX_DATA_DEPTH, "result")
        text = json.dumps(result, separators=(",", ":"), allow_nan=False)
    except (DomainError, TypeError, ValueError) as exc:
        raise InvalidResult(f"the result is not standard JSON: {exc}") from exc
    size = len(text.encode())
    if size > limit:
        raise InvalidResult(f"the result is {size} bytes as JSON; the limit is {limit} bytes")
    return text
