"""DynamoDB and DynamoDB Streams answers written as JSON directly.

moto serializes every response by walking botocore's output shape member by
member (``moto.core.serialize``), which costs about a millisecond per item:
most of a GetItem's time, and 30 % of the emulator's CPU under load, mostly
on GetRecords. The answers of the operations below are already DynamoDB JSON
(``{"S": ...}`` values, as the wire carries them), so they are dumped with
``json``; the only conversions the shape walk did are kept: binary values
base64, timestamps as epoch seconds, absent (None) members left out. Every
other operation, and every error, keeps moto's serializer.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

# What the patch is for (docs/local.md): correctness, missing feature, memory or speed.
PURPOSE = "speed"

JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
DYNAMODB_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
STREAM_OPERATIONS = frozenset({"GetRecords"})


def _plain(value: Any) -> Any:
    """``value`` with None members dropped, ready for json.dumps."""
    if isinstance(value, dict):
        return {key: _plain(member) for key, member in value.items() if member is not None}
    if isinstance(value, list | tuple):
        return [_plain(member) for member in value]
    return value


def _default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(result: Any) -> str:
    return json.dumps(_plain(result), default=_default, separators=(",", ":"))


def _fast(original: Any, operations: frozenset[str]) -> Any:
    def execute_result(self: Any, context: Any) -> tuple[int, dict[str, str], str]:
        if context.operation_model.name not in operations or isinstance(self.result, Exception):
            return original(self, context)
        return 200, {"Content-Type": JSON_CONTENT_TYPE}, dumps(self.result)

    return execute_result


def apply() -> None:
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoResult

    DynamoResult.execute_result = _fast(DynamoResult.execute_result, DYNAMODB_OPERATIONS)  # type: ignore[method-assign]
    # GetRecords answers with a plain ActionResult; only stream operations take this path.
    ActionResult.execute_result = _fast(ActionResult.execute_result, STREAM_OPERATIONS)  # type: ignore[method-assign]
