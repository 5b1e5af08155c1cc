"""Dashboard sign-in rules: throttling windows and the keys they count under. Pure, no I/O.

Failed sign-ins are counted per user name and per client address in fixed
windows; past a limit, sign-in is refused until the window ends. Every
attempt takes a slot before its password is checked (so concurrent guesses
on several Lambda instances can't overshoot the limit), and a success gives
its slots back: only failures count.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ThrottlePolicy:
    window_seconds: int
    failures_per_user: int
    failures_per_client: int


@dataclass(frozen=True)
class Counter:
    """One count of failures: whose, in which window, up to what limit, kept until when."""

    key: str
    window: int
    limit: int
    expires: int


def window_of(now: float, window_seconds: int) -> int:
    return int(now // window_seconds)


def seconds_left(now: float, window_seconds: int) -> int:
    """Until the current window ends: what Retry-After says."""
    return max(1, math.ceil((window_of(now, window_seconds) + 1) * window_seconds - now))


def counters(policy: ThrottlePolicy, user: str, client: str, now: float) -> tuple[Counter, Counter]:
    """The per-user and the per-client counter of this attempt.

    The user name is hashed: the key never holds what was typed (a password
    typed in the wrong field, say), and its length is bounded.
    """
    window = window_of(now, policy.window_seconds)
    # Kept one window past its end, then DynamoDB's TTL removes it.
    expires = (window + 2) * policy.window_seconds
    user_key = "user#" + hashlib.sha256(user.encode("utf-8", "replace")).hexdigest()[:32]
    client_key = "client#" + (client or "unknown")[:64]
    return (
        Counter(user_key, window, policy.failures_per_user, expires),
        Counter(client_key, window, policy.failures_per_client, expires),
    )


def session_key(session_id: str) -> str:
    """Sessions are stored under a hash of their id: reading the table gives no usable cookie."""
    return hashlib.sha256(session_id.encode()).hexdigest()
