"""Opaque paging tokens around DynamoDB's LastEvaluatedKey.

A token names the index it was issued for and is signed with the page-token
key (HMAC, itsdangerous), so it can't be forged or altered: decoding checks
the signature, then the index and the shape of every key, so a malformed,
tampered or foreign token is refused with a clear error instead of reaching
DynamoDB.
"""

from __future__ import annotations

import re
from typing import Any

from app.domain.errors import InvalidPageToken

_VERSION = 2
_SALT = "page-token"
_SORT_KEY = re.compile(r"^\d{13}#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _serializer(keys: list[str] | None) -> Any:
    from itsdangerous import URLSafeSerializer

    if keys is None:
        from app.adapters import secrets
        from app.settings import get_settings

        keys = secrets.page_token_secrets(get_settings())
    # Oldest first: the last key signs, every key verifies (rotation).
    return URLSafeSerializer(keys, salt=_SALT)


def encode(index: str, last_key: dict[str, str], keys: list[str] | None = None) -> str:
    return _serializer(keys).dumps({"v": _VERSION, "i": index, "k": last_key})


def decode(
    token: str, index: str, partition_attr: str, partition_value: str, keys: list[str] | None = None
) -> dict[str, str]:
    """The start key for ``index``, or InvalidPageToken."""
    from itsdangerous import BadData

    try:
        inner = _serializer(keys).loads(token)
    except (BadData, UnicodeError, ValueError) as exc:
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
