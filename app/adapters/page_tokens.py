"""Opaque paging tokens around DynamoDB's LastEvaluatedKey.

A token names the index it was issued for and carries a checksum; decoding
checks both and the shape of every key, so a malformed, tampered or foreign
token is refused with a clear error instead of reaching DynamoDB.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re

from app.domain.errors import InvalidPageToken

_VERSION = 1
_SORT_KEY = re.compile(r"^\d{13}#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _checksum(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def encode(index: str, last_key: dict[str, str]) -> str:
    body = json.dumps({"v": _VERSION, "i": index, "k": last_key}, sort_keys=True, separators=(",", ":"))
    raw = json.dumps({"b": body, "c": _checksum(body)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str, index: str, partition_attr: str, partition_value: str) -> dict[str, str]:
    """The start key for ``index``, or InvalidPageToken."""
    try:
        padded = token + "=" * (-len(token) % 4)
        outer = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        body = outer["b"]
        if not isinstance(body, str) or outer.get("c") != _checksum(body):
            raise InvalidPageToken()
        inner = json.loads(body)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError) as exc:
        raise InvalidPageToken() from exc
    if not isinstance(inner, dict) or inner.get("v") != _VERSION or inner.get("i") != index:
        raise InvalidPageToken()
    key = inner.get("k")
    expected_attrs = {"pk", "sk", partition_attr, "list_sk"}
    if not isinstance(key, dict) or set(key) != expected_attrs:
        raise InvalidPageToken()
    if not all(isinstance(value, str) for value in key.values()):
        raise InvalidPageToken()
    if key[partition_attr] != partition_value or not _SORT_KEY.match(key["list_sk"]):
        raise InvalidPageToken()
    task_id = key["list_sk"].split("#", 1)[1]
    if key["pk"] != f"TASK#{task_id}" or key["sk"] != "TASK":
        raise InvalidPageToken()
    return key
