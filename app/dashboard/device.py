"""The device cookie (OWASP): a browser that has signed in as a user before says so.

A successful sign-in leaves ``{"u": user, "d": random id}``, signed with the
session secret (under its own salt, so neither cookie passes for the other)
and timestamped. Its id names the browser's own failure counter; a sign-in
showing a valid one for the user it signs in as is not throttled by anyone
else's failures (app/domain/sign_in.py). It outlives sign-out on purpose.
"""

from __future__ import annotations

import secrets as random

from starlette.requests import Request
from starlette.responses import Response

from app.dashboard.session import set_cookie, signer
from app.settings import Settings

COOKIE_NAME = "dashboard_device"
_SALT = "dashboard-device"


def _serializer(settings: Settings):  # type: ignore[no-untyped-def]
    return signer(settings, _SALT)


def read(request: Request, settings: Settings, user: str) -> str | None:
    """The device id of the request's cookie if it is valid and was issued to ``user``; else None."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw or not user:
        return None
    from itsdangerous import BadData

    try:
        payload = _serializer(settings).loads(raw, max_age=settings.device_cookie_max_age_seconds)
    except BadData:
        return None
    if not isinstance(payload, dict) or payload.get("u") != user or not isinstance(payload.get("d"), str):
        return None
    return payload["d"] or None


def write(response: Response, user: str, request: Request, settings: Settings) -> None:
    """A fresh device cookie for ``user``: each sign-in renews it (and its age)."""
    payload = {"u": user, "d": random.token_urlsafe(16)}
    value = _serializer(settings).dumps(payload)
    set_cookie(response, COOKIE_NAME, value, settings.device_cookie_max_age_seconds, request, settings)
