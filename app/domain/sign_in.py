"""Dashboard sign-in rules: throttling windows and the keys they count under. Pure, no I/O.

Failed sign-ins are counted in fixed windows; past a limit, sign-in is
refused until the window ends. Which counters an attempt takes depends on
the browser (OWASP's device cookies):

- a browser that signed in as this user before (it shows a valid device
  cookie for the user) counts only its own failures, per device: nothing
  anyone else does can lock it out;
- any other attempt counts per user and address, per address, per user from
  anywhere (a higher limit: the slow backoff on guessing spread over many
  addresses) and overall (every untrusted attempt, whatever user).

Every attempt takes its slots before its password is checked (so concurrent
guesses on several Lambda instances can't overshoot the limit), and a
success gives them back: only failures count.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ThrottlePolicy:
    window_seconds: int
    # Per user name from one address (untrusted), and per known browser (trusted).
    failures_per_user: int
    failures_per_client: int
    # Untrusted attempts for one user name from every address together.
    failures_per_user_anywhere: int = 50
    # Untrusted attempts for every user from every address together.
    failures_overall: int = 500


@dataclass(frozen=True)
class Counter:
    """One count of failures: whose, in which window, up to what limit, kept until when."""

    key: str
    window: int
    limit: int
    expires: int
    # For the refusal: "Too many failed sign-ins <whose>."
    whose: str = ""


def window_of(now: float, window_seconds: int) -> int:
    return int(now // window_seconds)


def seconds_left(now: float, window_seconds: int) -> int:
    """Until the current window ends: what Retry-After says."""
    return max(1, math.ceil((window_of(now, window_seconds) + 1) * window_seconds - now))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def counters(
    policy: ThrottlePolicy, user: str, client: str, now: float, device: str | None = None
) -> tuple[Counter, ...]:
    """The counters this attempt takes, in the order they are taken.

    ``device`` is the id in a valid device cookie issued to ``user`` (None
    without one). The user name is hashed: the key never holds what was
    typed (a password typed in the wrong field, say), and its length is bounded.
    """
    window = window_of(now, policy.window_seconds)
    # Kept one window past its end, then DynamoDB's TTL removes it.
    expires = (window + 2) * policy.window_seconds

    def counter(key: str, limit: int, whose: str) -> Counter:
        return Counter(key, window, limit, expires, whose)

    if device:
        return (counter("device#" + _digest(device), policy.failures_per_user, "on this browser"),)
    user_key, client_key = _digest(user), (client or "unknown")[:64]
    return (
        counter(f"user#{user_key}#{client_key}", policy.failures_per_user, "for this user name"),
        counter("client#" + client_key, policy.failures_per_client, "from this address"),
        counter(
            "user#" + user_key,
            policy.failures_per_user_anywhere,
            "for this user name from browsers it has not signed in on",
        ),
        counter("all", policy.failures_overall, "from browsers not signed in on before"),
    )


def session_key(session_id: str) -> str:
    """Sessions are stored under a hash of their id: reading the table gives no usable cookie."""
    return hashlib.sha256(session_id.encode()).hexdigest()
