"""Webhooks: a signed POST of the task to its callback_url when it ends (Standard Webhooks).

Headers per https://www.standardwebhooks.com: ``webhook-id`` (the same on
every attempt and resend of one task's webhook, so a receiver can drop
duplicates), ``webhook-timestamp`` (epoch seconds of this attempt) and
``webhook-signature`` (``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``,
keyed with the secret ``whsec_<base64>``).

Delivery is retried with backoff: 8 attempts over about a day (the
schedule Standard Webhooks suggests), then the message goes to its
dead-letter queue. Each attempt is an event on the task's timeline.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES = 24
MAX_ATTEMPTS = 8
# Seconds before attempt 2, 3, ... 8: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (27.6 h in all).
RETRY_DELAYS_SECONDS = (5, 300, 1800, 7200, 18000, 36000, 36000)
# One resend of a task's webhook per this many seconds: a caller can't make it a flood.
RESEND_INTERVAL_SECONDS = 60


class InvalidSecret(ValueError):
    pass


def secret_key(secret: str) -> bytes:
    """The HMAC key in a ``whsec_<base64>`` secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecret(f"a webhook secret starts with {SECRET_PREFIX}")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise InvalidSecret("a webhook secret is whsec_ followed by base64") from exc
    if len(key) < MIN_SECRET_BYTES:
        raise InvalidSecret(f"a webhook secret holds at least {MIN_SECRET_BYTES} bytes")
    return key


def new_secret(random_bytes: bytes) -> str:
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode()


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def message_id(task_id: str) -> str:
    """One id per task's webhook: a receiver that saw it already can drop a repeat."""
    return f"msg_{task_id}"


def signed_headers(key: bytes, task_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    webhook_id = message_id(task_id)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(key, webhook_id, timestamp, body),
    }


def retry_delay(attempt: int, delays: tuple[int, ...] = RETRY_DELAYS_SECONDS) -> int | None:
    """Seconds to wait after failed attempt ``attempt`` (1-based); None when it was the last."""
    if attempt >= MAX_ATTEMPTS or attempt < 1:
        return None
    return delays[min(attempt, len(delays)) - 1]


@dataclass(frozen=True)
class WebhookMessage:
    """What the webhook queue carries: which task, and which send (1, then one more per resend)."""

    task_id: str
    send: int = 1

    def to_json(self) -> str:
        return json.dumps({"task_id": self.task_id, "send": self.send})

    @classmethod
    def from_json(cls, body: str) -> WebhookMessage:
        fields = json.loads(body)
        task_id, send = fields["task_id"], fields.get("send", 1)
        if not isinstance(task_id, str) or not isinstance(send, int):
            raise ValueError(f"not a webhook message: {body[:200]!r}")
        return cls(task_id, send)


@dataclass(frozen=True)
class Attempt:
    """How one delivery attempt went."""

    delivered: bool
    http_status: int | None
    detail: str
