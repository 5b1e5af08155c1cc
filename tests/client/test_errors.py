"""Every error response becomes one exception class, with the API's code, message and details."""

import email.utils

import httpx
import pytest
from async_app_client import (
    ApiError,
    Conflict,
    IdempotencyKeyReused,
    InvalidRequest,
    NotFound,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    Unauthorized,
)
from async_app_client.errors import error_from_response, parse_retry_after

from tests.client.support import error, reply


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, "invalid_next_token", InvalidRequest),
        (401, "unauthorized", Unauthorized),
        (403, "forbidden", Unauthorized),
        (404, "not_found", NotFound),
        (409, "invalid_transition", Conflict),
        (413, "data_too_large", InvalidRequest),
        (415, "unsupported_media_type", InvalidRequest),
        (422, "invalid_request", InvalidRequest),
        (422, "idempotency_key_reused", IdempotencyKeyReused),
        (429, "rate_limited", RateLimited),
        (503, "store_unavailable", ServiceUnavailable),
        (500, "internal_error", ServerError),
        (502, "bad_gateway", ServerError),
        (418, "teapot", ApiError),
    ],
)
def test_each_status_maps_to_its_exception(status, code, kind):
    exc = error_from_response(error(status, code, "what went wrong"))
    assert type(exc) is kind
    assert (exc.status_code, exc.code, exc.message) == (status, code, "what went wrong")
    assert str(exc) == f"{status} {code}: what went wrong"


def test_validation_details_and_extra_fields_are_kept():
    body = {
        "error": "invalid_request",
        "message": "Invalid request: body.task_type: unknown task_type",
        "details": [{"location": "body.task_type", "message": "unknown task_type"}],
    }
    exc = error_from_response(reply(422, body))
    assert exc.details == body["details"] and exc.body == body

    conflict = error_from_response(
        reply(409, {"error": "invalid_transition", "message": "is COMPLETED", "current_status": "COMPLETED"})
    )
    assert isinstance(conflict, Conflict) and conflict.current_status == "COMPLETED"


def test_retry_after_is_read_from_429_and_503():
    assert error_from_response(error(429, "rate_limited", "slow down", retry_after="7")).retry_after == 7.0
    assert error_from_response(error(503, "store_unavailable", "down", retry_after="2.5")).retry_after == 2.5
    assert error_from_response(error(503, "store_unavailable", "down")).retry_after is None


def test_an_error_that_is_not_ours_still_says_something():
    gateway = error_from_response(reply(403, {"message": "Forbidden"}))
    assert isinstance(gateway, Unauthorized) and (gateway.code, gateway.message) == (
        "http_error",
        "Forbidden",
    )

    html = error_from_response(httpx.Response(502, text="<html>Bad Gateway</html>"))
    assert isinstance(html, ServerError) and html.message == "<html>Bad Gateway</html>"

    empty = error_from_response(httpx.Response(504))
    assert isinstance(empty, ServerError) and empty.message == "Gateway Timeout"


def test_retry_after_takes_seconds_or_an_http_date():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(email.utils.formatdate(1000.0 + 30, usegmt=True), now=1000.0) == 30.0
    assert parse_retry_after(email.utils.formatdate(900.0, usegmt=True), now=1000.0) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
