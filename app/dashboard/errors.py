"""Every dashboard error becomes a page (or, for htmx, a message in the page); mapped here, once.

The JSON API maps the same domain errors to JSON in app/api/errors.py; the
dashboard's routes use this route class so that their errors become HTML,
and never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.adapters.secrets import SecretNotConfigured
from app.dashboard.auth import CsrfRefused, SignInRequired
from app.dashboard.views import Urls, is_htmx, render
from app.domain import errors as domain

logger = logging.getLogger(__name__)

STORE_DOWN = "The task store can't be reached right now. Nothing was lost; try again in a moment."
STALE_PAGE_LINK = "This page link is no longer valid; start from the first page."
CSRF_REFUSED = "This form has expired or did not come from this dashboard. Reload the page and try again."
NOT_CONFIGURED = "Dashboard sign-in is not configured for this stage."

# (status, title, message or None to use the error's own)
_PAGES: dict[type[Exception], tuple[int, str, str | None]] = {
    domain.TaskNotFound: (404, "Task not found", None),
    domain.InvalidTransition: (409, "Not possible", None),
    domain.InvalidPageToken: (400, "Bad page link", STALE_PAGE_LINK),
    domain.DataTooLarge: (413, "Data too large", None),
    domain.InvalidTaskInput: (422, "Invalid input", None),
    domain.InvalidJson: (400, "Invalid JSON", None),
    domain.TooDeeplyNested: (422, "Invalid input", None),
    domain.Throttled: (429, "Too many attempts", None),
    domain.StoreUnavailable: (503, "Store unavailable", STORE_DOWN),
    CsrfRefused: (403, "Refused", CSRF_REFUSED),
    SecretNotConfigured: (503, "Sign-in is not configured", NOT_CONFIGURED),
}


def error_response(request: Request, exc: Exception) -> Response:
    status, title, message = _PAGES.get(type(exc), (500, "Something went wrong", "Something went wrong."))
    if status >= 500:
        logger.error("dashboard error", exc_info=exc)
    text = message or str(exc)
    if is_htmx(request):
        # Shown in the page's alert area, whatever element asked.
        target = "#live-status" if request.headers.get("hx-trigger") == "live-poller" else "#alerts"
        headers = {"HX-Retarget": target, "HX-Reswap": "innerHTML"}
        return render(request, "partials/alert.html", {"message": text}, status, headers)
    return render(request, "pages/error.html", {"title": title, "message": text}, status)


def sign_in_redirect(request: Request) -> Response:
    urls = Urls(request)
    back = urls.current() if request.method == "GET" else None
    if is_htmx(request):
        # Back to the page the user was on, not to the partial htmx asked for.
        page = urlsplit(request.headers.get("hx-current-url", ""))
        back = page.path + (f"?{page.query}" if page.query else "") or None
    login = urls("dashboard_login", {"next": back})
    if is_htmx(request):
        # htmx follows this header with a full page load, whatever the status.
        return Response(status_code=401, headers={"HX-Redirect": login})
    return RedirectResponse(login, status_code=303)


class DashboardRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return sign_in_redirect(request)
            except Exception as exc:
                # A page, not a stack trace; the log has the trace of anything unexpected.
                return error_response(request, exc)

        return handle
