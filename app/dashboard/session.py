"""The dashboard's session: a signed cookie holding the user and the CSRF token.

The cookie carries ``{"u": user, "s": session id, "c": csrf}``, signed with
the session secret and timestamped, so it cannot be forged or kept past its
age. A signed-in session is also a record in the table (app/services/sign_in.py),
checked on every request, so signing out ends it even for a copied cookie.
A visitor who has not signed in gets a session with a CSRF token only, so the
sign-in form itself is protected (login CSRF).
"""

from __future__ import annotations

import secrets as random
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from app.adapters import secrets
from app.settings import Settings

COOKIE_NAME = "dashboard_session"
_SALT = "dashboard-session"


@dataclass(frozen=True)
class Session:
    csrf: str
    user: str | None = None
    # The id of the session's record in the table; only a signed-in session has one.
    id: str = ""

    @classmethod
    def anonymous(cls) -> Session:
        return cls(csrf=random.token_urlsafe(32))

    @classmethod
    def signed_in(cls, user: str, session_id: str) -> Session:
        # A fresh token at sign-in: nothing issued before it stays valid after.
        return cls(csrf=random.token_urlsafe(32), user=user, id=session_id)

    def signed_out(self) -> Session:
        """The same visitor, signed in no more (a revoked or expired session, or a removed user)."""
        return Session(csrf=self.csrf)


def signer(settings: Settings, salt: str):  # type: ignore[no-untyped-def]
    """What signs and checks a dashboard cookie: the session secrets (rotatable), one salt per cookie."""
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(secrets.session_secrets(settings), salt=salt)


def _serializer(settings: Settings):  # type: ignore[no-untyped-def]
    return signer(settings, _SALT)


def set_cookie(
    response: Response, name: str, value: str, max_age: int, request: Request, settings: Settings
) -> None:
    """A dashboard cookie: HttpOnly, SameSite=Lax, under the dashboard's path, Secure behind HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=cookie_path(request),
        httponly=True,
        samesite="lax",
        secure=is_https(request, settings),
    )


def read(request: Request, settings: Settings) -> Session | None:
    """The session in the request's cookie, or None if absent, tampered with or expired."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return None
    from itsdangerous import BadData

    try:
        payload = _serializer(settings).loads(raw, max_age=settings.session_max_age_seconds)
    except BadData:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("c"), str):
        return None
    user, session_id = payload.get("u"), payload.get("s")
    if not isinstance(user, str) or not isinstance(session_id, str):
        return Session(csrf=payload["c"])
    return Session(csrf=payload["c"], user=user, id=session_id)


def cookie_path(request: Request) -> str:
    """The cookie goes only to the dashboard's paths, never to the JSON API."""
    return f"{request.scope.get('root_path', '')}/dashboard"


def is_https(request: Request, settings: Settings) -> bool:
    # Deployed stages are always behind API Gateway's HTTPS; locally it's plain HTTP.
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
    return not settings.is_local or request.url.scheme == "https" or forwarded == "https"


def write(response: Response, session: Session, request: Request, settings: Settings) -> None:
    payload: dict[str, str] = {"c": session.csrf}
    if session.user:
        payload["u"], payload["s"] = session.user, session.id
    set_cookie(
        response,
        COOKIE_NAME,
        _serializer(settings).dumps(payload),
        settings.session_max_age_seconds,
        request,
        settings,
    )


def clear(response: Response, request: Request, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE_NAME,
        path=cookie_path(request),
        httponly=True,
        samesite="lax",
        secure=is_https(request, settings),
    )
