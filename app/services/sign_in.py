"""Signing in to and out of the dashboard: throttled, audited, with sessions that can be revoked.

Dependencies are parameters; no AWS here. Every outcome is an audit log line
naming the user (only a known one: an unknown name may be a password typed
in the wrong field) and the client address, never the password.
"""

from __future__ import annotations

import secrets as random
import time
from typing import NoReturn, Protocol

from app import observability
from app.domain.errors import Throttled
from app.domain.sign_in import Counter, ThrottlePolicy, counters, seconds_left, session_key
from app.services.ports import Clock, PasswordCheck


class SignInRecords(Protocol):
    def take(self, counter: Counter) -> bool: ...
    def give_back(self, counter: Counter) -> None: ...
    def open_session(self, key: str, user: str, now: float, expires: int) -> None: ...
    def session_is_open(self, key: str, user: str, now: float) -> bool: ...
    def close_session(self, key: str, now: float) -> None: ...


def _audit(
    event: str,
    users: dict[str, str],
    user: str,
    client: str,
    warning: bool = False,
    device: str | None = None,
) -> None:
    logger = observability.get_logger()
    fields = {"audit": event, "user": user if user in users else "(unknown user)", "client": client}
    # Whether the browser had signed in as this user before (its device cookie): guessing shows as "new".
    fields["browser"] = "known" if device else "new"
    (logger.warning if warning else logger.info)(f"dashboard {event.replace('_', ' ')}", extra=fields)


def sign_in(
    records: SignInRecords,
    users: dict[str, str],
    policy: ThrottlePolicy,
    user: str,
    password: str,
    client: str,
    *,
    session_seconds: int,
    verify_password: PasswordCheck,
    device: str | None = None,
    clock: Clock = time.time,
) -> str | None:
    """A new session's id, or None for a wrong user name or password; Throttled past the limits.

    ``device`` is the id of a valid device cookie issued to ``user``: such an
    attempt counts against that browser only (app/domain/sign_in.py).
    """
    now = clock()
    # Slots are taken before the password is checked, so that guesses running
    # at once on several instances can't pass the limit; a success gives them back.
    taken: list[Counter] = []
    for counter in counters(policy, user, client, now, device):
        if not records.take(counter):
            for earlier in taken:
                records.give_back(earlier)
            _refuse(users, user, client, now, policy, counter.whose, device)
        taken.append(counter)
    if not verify_password(users, user, password):
        _audit("sign_in_failed", users, user, client, warning=True, device=device)
        return None
    for counter in taken:
        records.give_back(counter)
    session_id = random.token_urlsafe(32)
    records.open_session(session_key(session_id), user, now, int(now) + session_seconds)
    _audit("sign_in", users, user, client, device=device)
    return session_id


def _refuse(
    users: dict[str, str],
    user: str,
    client: str,
    now: float,
    policy: ThrottlePolicy,
    whose: str,
    device: str | None,
) -> NoReturn:
    _audit("sign_in_throttled", users, user, client, warning=True, device=device)
    wait = seconds_left(now, policy.window_seconds)
    minutes = -(-wait // 60)
    raise Throttled(
        f"Too many failed sign-ins {whose}. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
        retry_after=wait,
    )


def is_signed_in(
    records: SignInRecords, users: dict[str, str], user: str, session_id: str, clock: Clock = time.time
) -> bool:
    """The session is open (not signed out, not expired) and its user is still on the users list."""
    return (
        user in users and bool(session_id) and records.session_is_open(session_key(session_id), user, clock())
    )


def sign_out(
    records: SignInRecords,
    users: dict[str, str],
    user: str,
    session_id: str,
    client: str,
    clock: Clock = time.time,
) -> None:
    """Revoke the session: its cookie, even copied elsewhere, signs nobody in again."""
    if session_id:
        records.close_session(session_key(session_id), clock())
    _audit("sign_out", users, user, client)
