"""Opaque paging tokens: where the next page of one listing starts.

A listing reads every shard of an index and merges them, so its position is
not a DynamoDB LastEvaluatedKey but the sort key of the last task returned
(``<created ms>#<id>``), valid in every shard. The token carries it with the
listing it was issued for (index, filters, range), signed with the
page-token key (HMAC, itsdangerous): a malformed, tampered, forged or
foreign token is refused with a clear error instead of reaching DynamoDB.
"""

from __future__ import annotations

import re
from typing import Any

from app.domain.errors import InvalidPageToken

_VERSION = 3
_SALT = "page-token"
SORT_KEY = re.compile(r"^\d{13}#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _serializer(keys: list[str] | None) -> Any:
    from itsdangerous import URLSafeSerializer

    if keys is None:
        from app.adapters import secrets
        from app.settings import get_settings

        keys = secrets.page_token_secrets(get_settings())
    # Oldest first: the last key signs, every key verifies (rotation).
    return URLSafeSerializer(keys, salt=_SALT)


def encode(listing: str, cursor: str, keys: list[str] | None = None) -> str:
    """A token for the page of ``listing`` that starts below ``cursor``."""
    return _serializer(keys).dumps({"v": _VERSION, "l": listing, "c": cursor})


def decode(token: str, listing: str, keys: list[str] | None = None) -> str:
    """The cursor a token carries for ``listing``, or InvalidPageToken."""
    from itsdangerous import BadData

    try:
        inner = _serializer(keys).loads(token)
    except (BadData, UnicodeError, ValueError) as exc:
        raise InvalidPageToken() from exc
    if not isinstance(inner, dict) or inner.get("v") != _VERSION or inner.get("l") != listing:
        raise InvalidPageToken()
    cursor = inner.get("c")
    if not isinstance(cursor, str) or not SORT_KEY.match(cursor):
        raise InvalidPageToken()
    return cursor
