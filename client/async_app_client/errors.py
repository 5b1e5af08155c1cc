"""Errors, one class per kind of refusal, mapped from the API's ``{"error", "message", "details"?}``."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import httpx


class AsyncAppError(Exception):
    """Base of every error this client raises."""


class ConfigurationError(AsyncAppError):
    """The client was not told where the service is, or how to authenticate."""


class ServiceUnreachable(AsyncAppError):
    """No HTTP answer at all: connection refused, DNS, TLS, or a network timeout."""


class WaitTimeout(AsyncAppError, TimeoutError):
    """``wait`` ran out of time before the task reached a final status."""

    def __init__(self, task_id: str, timeout: float, last: Any = None):
        status = f"; last seen {last.status}" if last is not None else ""
        super().__init__(f"task {task_id} not finished after {timeout:g} s{status}")
        self.task_id = task_id
        self.timeout = timeout
        # The last Task seen, or None if no poll succeeded.
        self.last = last


class ApiError(AsyncAppError):
    """The API answered with an error status."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        details: list[Any] | None = None,
        body: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(f"{status_code} {code}: {message}")
        self.status_code = status_code
        # The API's machine-readable "error" field.
        self.code = code
        self.message = message
        self.details = details or []
        # The whole error object, with any fields beyond the three above (e.g. current_status).
        self.body = body or {}
        self.retry_after = retry_after


class InvalidRequest(ApiError):
    """400, 413, 415 or 422: the request was malformed or broke a rule."""


class IdempotencyKeyReused(InvalidRequest):
    """422: this Idempotency-Key was already used with a different request body."""


class Unauthorized(ApiError):
    """401 or 403: the API key is missing or not accepted."""


class NotFound(ApiError):
    """404: no such task (or route)."""


class Conflict(ApiError):
    """409: the task's status forbids it, or a request with the same Idempotency-Key is in flight."""

    @property
    def current_status(self) -> str | None:
        return self.body.get("current_status")


class RateLimited(ApiError):
    """429: too many requests; ``retry_after`` says when to try again, if the server said."""


class ServiceUnavailable(ApiError):
    """503: the service or its store can't answer now; ``retry_after`` as for 429."""


class ServerError(ApiError):
    """Any other 5xx."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Unauthorized,
    404: NotFound,
    409: Conflict,
    413: InvalidRequest,
    415: InvalidRequest,
    422: InvalidRequest,
    429: RateLimited,
    503: ServiceUnavailable,
}
_BY_CODE: dict[str, type[ApiError]] = {"idempotency_key_reused": IdempotencyKeyReused}


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait, from a ``Retry-After`` of delta-seconds or an HTTP date; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def error_from_response(response: httpx.Response) -> ApiError:
    """The exception for an error response, whatever its body (API Gateway's own errors aren't ours)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {"message": response.text.strip()[:200]} if response.text.strip() else {}
    code = str(body.get("error") or "http_error")
    message = str(body.get("message") or response.reason_phrase or "request failed")
    details = body.get("details") if isinstance(body.get("details"), list) else None
    kind = _BY_CODE.get(code) or _BY_STATUS.get(response.status_code)
    if kind is None:
        kind = ServerError if response.status_code >= 500 else ApiError
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    return kind(response.status_code, code, message, details, body, retry_after)
