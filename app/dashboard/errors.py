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

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.adapters.secrets import SecretNotConfigured
from app.dashboard.auth import BadForm, CsrfRefused, SignInRequired
from app.dashboard.views import Urls, is_htmx, render
from app.domain import errors as domain
from app.services.dead_letters import QueueUnavailable

logger = logging.getLogger(__name__)

STORE_DOWN = "The task store can't be reached right now. Nothing was lost; try again in a moment."
STALE_PAGE_LINK = "This page link is no longer valid; start from the first page."
CSRF_REFUSED = "This form has expired or did not come from this dashboard. Reload the page and try again."
NOT_CONFIGURED = "Dashboard sign-in is not configured for this stage."
NO_SUCH_PAGE = "There is no dashboard page at this address."


class InvalidParameter(Exception):
    """A parameter of a dashboard address that can't be used as it is."""

    def __init__(self, name: str, problem: str):
        super().__init__(f"This address has a bad {name}: {problem}.")


class PageNotFound(Exception):
    """An address of a dashboard route that names nothing there (a queue that is not configured)."""


# (status, title, message or None to use the error's own)
_PAGES: dict[type[Exception], tuple[int, str, str | None]] = {
    domain.TaskNotFound: (404, "Task not found", None),
    domain.InvalidTransition: (409, "Not possible", None),
    domain.InvalidPageToken: (400, "Bad page link", STALE_PAGE_LINK),
    domain.DataTooLarge: (413, "Data too large", None),
    domain.InvalidTaskInput: (422, "Invalid input", None),
    domain.InvalidSearch: (422, "Invalid search", None),
    domain.InvalidJson: (400, "Invalid JSON", None),
    domain.TooDeeplyNested: (422, "Invalid input", None),
    domain.Throttled: (429, "Too many attempts", None),
    domain.StoreUnavailable: (503, "Store unavailable", STORE_DOWN),
    CsrfRefused: (403, "Refused", CSRF_REFUSED),
    InvalidParameter: (400, "Bad request", None),
    BadForm: (400, "Bad request", None),
    SecretNotConfigured: (503, "Sign-in is not configured", NOT_CONFIGURED),
    QueueUnavailable: (503, "Queue unavailable", None),
    PageNotFound: (404, "Page not found", None),
}


def error_response(request: Request, exc: Exception) -> Response:
    if isinstance(exc, RequestValidationError):
        return error_page(request, 400, "Bad request", invalid_parameters(exc))
    status, title, message = _PAGES.get(type(exc), (500, "Something went wrong", "Something went wrong."))
    if status >= 500:
        logger.error("dashboard error", exc_info=exc)
    return error_page(request, status, title, message or str(exc))


def error_page(
    request: Request, status: int, title: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    if is_htmx(request):
        # Shown in the page's alert area, whatever element asked.
        target = "#live-status" if request.headers.get("hx-trigger") == "live-poller" else "#alerts"
        swap = {"HX-Retarget": target, "HX-Reswap": "innerHTML"}
        return render(
            request, "partials/alert.html", {"message": message}, status, {**(headers or {}), **swap}
        )
    return render(request, "pages/error.html", {"title": title, "message": message}, status, headers)


def invalid_parameters(exc: RequestValidationError) -> str:
    """What was missing or wrong in the address, by parameter name (never the values sent)."""
    problems = []
    for problem in exc.errors():
        name = str(problem["loc"][-1]) if problem.get("loc") else "request"
        problems.append(f"{name} is missing" if problem["type"] == "missing" else f"{name} is not valid")
    return "This address is incomplete or wrong: " + "; ".join(problems) + "."


async def http_error(request: Request, exc: Exception) -> Response:
    """Unknown dashboard paths and refused methods: an HTML page, as for every other dashboard error."""
    from app.api.errors import allowed_methods

    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_page(request, 404, "Page not found", NO_SUCH_PAGE)
    if exc.status_code == 405:
        allowed = allowed_methods(request)
        message = f"{request.method} is not allowed here; this address takes {', '.join(allowed)}."
        return error_page(request, 405, "Not allowed", message, {"Allow": ", ".join(allowed)})
    message = exc.detail if isinstance(exc.detail, str) else "The request failed."
    return error_page(request, exc.status_code, "Request failed", message, dict(exc.headers or {}))


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
            except HTTPException as exc:
                # Starlette's and FastAPI's own refusals keep their 4xx status.
                return await http_error(request, exc)
            except Exception as exc:
                # A page, not a stack trace; the log has the trace of anything unexpected.
                return error_response(request, exc)

        return handle
