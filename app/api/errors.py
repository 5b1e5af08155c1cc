"""Every error becomes JSON with a human message; mapped here, once."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.adapters.secrets import SecretNotConfigured
from app.domain import errors as domain

logger = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


# Seconds a client should wait before trying again, sent as Retry-After.
RETRY_AFTER_UNAVAILABLE = 5
RETRY_AFTER_NOT_CONFIGURED = 60

# A subclass maps as its nearest listed base does.
DOMAIN_STATUS: dict[type[domain.DomainError], tuple[int, str]] = {
    domain.TaskNotFound: (404, "not_found"),
    domain.InvalidTransition: (409, "invalid_transition"),
    domain.NoCallback: (409, "no_webhook"),
    domain.IdempotencyKeyInFlight: (409, "idempotency_key_in_flight"),
    domain.IdempotencyKeyReused: (422, "idempotency_key_reused"),
    domain.InvalidIdempotencyKey: (422, "invalid_idempotency_key"),
    domain.InvalidPageToken: (400, "invalid_next_token"),
    domain.InvalidSearch: (422, "invalid_search"),
    domain.InvalidJson: (400, "invalid_json"),
    domain.DataTooLarge: (413, "data_too_large"),
    domain.InvalidTaskInput: (422, "invalid_input"),
    domain.TooDeeplyNested: (422, "too_deeply_nested"),
    domain.Throttled: (429, "too_many_requests"),
    domain.StoreUnavailable: (503, "store_unavailable"),
}


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": code, "message": message, **extra}


def _location(loc: tuple[object, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = exc.errors()
    if any(problem["type"] == "json_invalid" for problem in problems):
        return JSONResponse(error_body("invalid_json", "Request body is not valid JSON"), status_code=400)
    details = []
    for problem in problems:
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown field"
        details.append({"location": _location(problem["loc"]), "message": message})
    summary = "; ".join(f"{d['location']}: {d['message']}" for d in details)
    return JSONResponse(
        error_body("invalid_request", f"Invalid request: {summary}", details=details), status_code=422
    )


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status)


def domain_status(exc: domain.DomainError) -> tuple[int, str]:
    for kind in type(exc).__mro__:
        if kind in DOMAIN_STATUS:
            return DOMAIN_STATUS[kind]
    return 400, "bad_request"


async def _domain_error(request: Request, exc: domain.DomainError) -> JSONResponse:
    status, code = domain_status(exc)
    if status >= 500:
        logger.error("store unavailable", exc_info=exc)
    extra = (
        {"current_status": exc.current}
        if isinstance(exc, domain.InvalidTransition | domain.NoCallback)
        else {}
    )
    retry_after = getattr(exc, "retry_after", RETRY_AFTER_UNAVAILABLE if status == 503 else None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse(error_body(code, str(exc), **extra), status_code=status, headers=headers)


def not_configured_response(exc: SecretNotConfigured) -> JSONResponse:
    """503 naming what is missing: the SSM parameter, when the secret comes from one."""
    extra = {"parameter": exc.parameter} if exc.parameter else {}
    return JSONResponse(
        error_body("not_configured", f"This stage is not configured: {exc}", **extra),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_NOT_CONFIGURED)},
    )


async def _not_configured(request: Request, exc: SecretNotConfigured) -> JSONResponse:
    logger.error("secret not configured", extra={"parameter": exc.parameter}, exc_info=exc)
    return not_configured_response(exc)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    message = exc.detail if isinstance(exc.detail, str) else "Request failed"
    headers = exc.headers
    if exc.status_code == 404 and message == "Not Found":
        message = f"No route for {request.method} {request.url.path}"
    if exc.status_code == 405:
        allowed = allowed_methods(request)
        message = f"{request.method} is not allowed here; allowed: {', '.join(allowed)}"
        headers = {**(headers or {}), "Allow": ", ".join(allowed)}
    return JSONResponse(error_body("http_error", message), status_code=exc.status_code, headers=headers)


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's own Allow names the first route's only)."""
    from starlette.routing import Match

    routes = request.app.router.routes
    return [
        method
        for method in HTTP_METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error")
    return JSONResponse(error_body("internal_error", "Internal server error"), status_code=500)


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(domain.DomainError, _domain_error)
    app.add_exception_handler(SecretNotConfigured, _not_configured)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
