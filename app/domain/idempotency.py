"""Idempotency-Key: the same request sent again gets the same answer, not a second task.

A key is scoped to the API key that sent it (the record is found under a hash
of both, so neither is stored) and lives 24 hours. The record holds a
fingerprint of the request (method, path, body) and the answer given; it is
written in the same DynamoDB transaction as the task it created, so a record
exists exactly when its task does. Only accepted requests are recorded: one
refused (a 4xx) can be sent again with the same key once it is fixed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from app.domain.errors import IdempotencyKeyReused, InvalidIdempotencyKey

TTL_SECONDS = 24 * 3600
MAX_KEY_CHARS = 255
HEADER = "Idempotency-Key"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def check_key(key: str) -> None:
    """1 to 255 printable ASCII characters (what Stripe accepts, and what a header can carry)."""
    if not key or len(key) > MAX_KEY_CHARS or not all(" " <= char <= "~" for char in key):
        raise InvalidIdempotencyKey(
            f"{HEADER} must be 1 to {MAX_KEY_CHARS} printable ASCII characters (a UUID is a good choice)"
        )


@dataclass(frozen=True)
class StoredResponse:
    """The answer an accepted request got, replayed as it was."""

    status_code: int
    body: dict[str, Any]
    location: str | None = None


@dataclass(frozen=True)
class IdempotentRequest:
    """A request that carries an Idempotency-Key: where its record lives and what it asked."""

    scope: str
    fingerprint: str

    def record(self, response: StoredResponse, now: float) -> IdempotencyRecord:
        return IdempotencyRecord(self.scope, self.fingerprint, response, int(now) + TTL_SECONDS)


@dataclass(frozen=True)
class IdempotencyRecord:
    scope: str
    fingerprint: str
    response: StoredResponse
    # Epoch seconds; DynamoDB's TTL removes the record some time after.
    expires: int


def request_of(api_key: str, key: str, method: str, path: str, body: Any) -> IdempotentRequest:
    """The request's scope (API key and Idempotency-Key, hashed) and fingerprint (what it asks)."""
    check_key(key)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return IdempotentRequest(
        scope=_sha256(f"{_sha256(api_key)}\n{key}"),
        fingerprint=_sha256(f"{method.upper()} {path}\n{canonical}"),
    )


def replay(record: IdempotencyRecord | None, request: IdempotentRequest, now: float) -> StoredResponse | None:
    """The answer to give again, or None to handle the request; IdempotencyKeyReused for another request."""
    if record is None or record.expires <= now:
        return None
    if record.fingerprint != request.fingerprint:
        raise IdempotencyKeyReused()
    return record.response
