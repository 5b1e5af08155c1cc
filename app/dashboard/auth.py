"""Who may use the dashboard, and the CSRF check on everything that changes state."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from app.adapters import secrets
from app.api.deps import off_loop
from app.dashboard import session as sessions
from app.dashboard.deps import SettingsDep, SignInRecordsDep
from app.dashboard.session import Session
from app.services import sign_in
from app.services.sign_in import SignInRecords
from app.settings import Settings

CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


class SignInRequired(Exception):
    """The request needs a signed-in user and has none."""


class CsrfRefused(Exception):
    """A state change without the session's CSRF token."""


async def get_session(request: Request, settings: SettingsDep, records: SignInRecordsDep) -> Session | None:
    """The visitor's session; signed in only while its record is open and its user is still listed.

    The check reads the table (and SSM for the users list): off the event loop where that matters.
    """
    if not hasattr(request.state, "dashboard_session"):
        session = sessions.read(request, settings)
        signed_in = session is not None and session.user is not None
        if signed_in and not await off_loop(request, _still_signed_in, records, settings, session):
            session = session.signed_out()
        request.state.dashboard_session = session
    return request.state.dashboard_session


def _still_signed_in(records: SignInRecords, settings: Settings, session: Session) -> bool:
    users = secrets.dashboard_users(settings)
    return sign_in.is_signed_in(records, users, session.user or "", session.id)


SessionDep = Annotated[Session | None, Depends(get_session)]


async def current_session(session: SessionDep) -> Session:
    if session is None or session.user is None:
        raise SignInRequired()
    return session


SignedIn = Annotated[Session, Depends(current_session)]


class BadForm(Exception):
    """A form body that can't be read: broken multipart, too many fields or files, a part too large."""

    def __init__(self, problem: str):
        super().__init__(f"This form could not be read: {problem}")


async def read_form(request: Request) -> FormData:
    """The request's form (parsed once, then cached by Starlette), or BadForm: a 400, never a 500."""
    from starlette.exceptions import HTTPException
    from starlette.formparsers import MultiPartException

    try:
        return await request.form()
    except HTTPException as exc:  # Starlette's own 400 for a MultiPartException
        raise BadForm(str(exc.detail).rstrip(".") + ".") from None
    except (MultiPartException, KeyError, ValueError, UnicodeDecodeError):
        # python-multipart and Starlette's parsers fail on some malformed bodies with plain errors
        # (a multipart type without a boundary: KeyError).
        raise BadForm("its body does not match its Content-Type.") from None


FormDep = Annotated[FormData, Depends(read_form)]


async def require_csrf(request: Request, session: SessionDep) -> None:
    """The token comes in a header (htmx) or a form field (plain forms); either must match the session's."""
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        form = await read_form(request)
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if session is None or not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise CsrfRefused()


CsrfChecked = Depends(require_csrf)
