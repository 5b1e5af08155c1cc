"""What the OpenAPI document says, beyond the routes' own types: declared once, here.

Every error response of every route uses the one error body the API really
sends; every /tasks route declares the x-api-key scheme; the 202s declare
their Location header. The document is served at /openapi.json, behind the
API key like the routes it describes.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field

from app.domain import rules

if TYPE_CHECKING:
    from fastapi import FastAPI

# Declares the scheme on every route that depends on it; ApiKeyMiddleware does the checking.
api_key_scheme = APIKeyHeader(name="x-api-key", scheme_name="ApiKey", auto_error=False)


class ErrorDetail(BaseModel):
    location: str = Field(examples=["body.task_type"])
    message: str


class ErrorBody(BaseModel):
    """Every error of the API: a code to branch on and a sentence for people."""

    error: str = Field(description="A stable code, e.g. not_found")
    message: str = Field(description="What went wrong, for a person")
    details: list[ErrorDetail] | None = Field(default=None, description="One entry per invalid field (422)")
    current_status: str | None = Field(default=None, description="The task's status (409)")


def _example(error: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"summary": message, "value": {"error": error, "message": message, **extra}}


# status -> (description, examples)
ERRORS: dict[int, tuple[str, dict[str, dict[str, Any]]]] = {
    400: (
        "Malformed input: the body is not standard JSON, or next_token is not one the API issued",
        {
            "invalid_json": _example(
                "invalid_json", "Request body is not valid JSON: NaN is not a JSON number"
            ),
            "invalid_next_token": _example(
                "invalid_next_token", "next_token is malformed or was not issued for this query"
            ),
        },
    ),
    401: (
        "Missing or invalid x-api-key header",
        {"unauthorized": _example("unauthorized", "Missing or invalid x-api-key header")},
    ),
    404: (
        "No such task",
        {"not_found": _example("not_found", "Task 0b6f3f8e-6a0e-4a55-9d4f-2f0c1d7b9a10 not found")},
    ),
    409: (
        "The state machine forbids it; current_status names the task's status",
        {
            "invalid_transition": _example(
                "invalid_transition",
                "Task 0b6f3f8e-6a0e-4a55-9d4f-2f0c1d7b9a10 is COMPLETED; it cannot move to IN_PROGRESS",
                current_status="COMPLETED",
            )
        },
    ),
    413: (
        "The body is larger than MAX_REQUEST_BYTES, or data larger than MAX_DATA_BYTES",
        {
            "data_too_large": _example(
                "data_too_large", "data is 70012 bytes as JSON; the limit is 65536 bytes"
            ),
            "request_too_large": _example(
                "request_too_large", "The request body is larger than 262144 bytes"
            ),
        },
    ),
    415: (
        "The body is not application/json",
        {
            "unsupported_media_type": _example(
                "unsupported_media_type", "Content-Type must be application/json"
            )
        },
    ),
    422: (
        "Invalid fields: details has one entry per field",
        {
            "invalid_request": _example(
                "invalid_request",
                "Invalid request: body.task_type: unknown task_type 'NOPE'; known types: TASK1, TASK2",
                details=[
                    {
                        "location": "body.task_type",
                        "message": "unknown task_type 'NOPE'; known types: TASK1, TASK2",
                    }
                ],
            ),
            "invalid_input": _example("invalid_input", "ttl 1000 is in the past (now is 1795920941)"),
            "too_deeply_nested": _example(
                "too_deeply_nested",
                f"the body nests objects and arrays more than {rules.MAX_DATA_DEPTH + 1} levels deep; "
                f"data may nest at most {rules.MAX_DATA_DEPTH} levels",
            ),
        },
    ),
    503: (
        "DynamoDB could not be reached, or the stage's secrets are not configured; try again later",
        {"store_unavailable": _example("store_unavailable", "DynamoDB query failed: ThrottlingException")},
    ),
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route that can answer these error statuses."""
    return {
        status: {
            "model": ErrorBody,
            "description": ERRORS[status][0],
            "content": {"application/json": {"examples": ERRORS[status][1]}},
        }
        for status in statuses
    }


# Every protected route can answer these, whatever it does.
PROTECTED = (401, 503)
LOCATION = {
    "Location": {
        "description": "The task's status URL: poll it (GET) for the result",
        "schema": {"type": "string", "format": "uri"},
    }
}


def accepted(model: type[BaseModel], description: str) -> dict[int | str, dict[str, Any]]:
    """A 202 with its body and the Location header of the async request-reply pattern."""
    return {202: {"model": model, "description": description, "headers": LOCATION}}


def _without_fastapi_validation_errors(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI adds a 422 of its own shape to every route with parameters; the API never sends that shape."""
    for operations in document["paths"].values():
        for operation in operations.values():
            schema = operation["responses"].get("422", {}).get("content", {}).get("application/json", {})
            if schema.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                del operation["responses"]["422"]
    for name in ("HTTPValidationError", "ValidationError"):
        document["components"]["schemas"].pop(name, None)
    return document


def install(app: FastAPI, clock: Callable[[], float] = time.time) -> None:
    """Serve the document with the ttl bounds of the moment it is read (a ttl is in the next year)."""
    generate = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _without_fastapi_validation_errors(generate())
        served = copy.deepcopy(app.openapi_schema)
        ttl = served["components"]["schemas"]["CreateTaskRequest"]["properties"]["ttl"]["anyOf"][0]
        now = int(clock())
        ttl.update(minimum=now + 1, maximum=now + rules.MAX_TTL_SECONDS)
        return served

    app.openapi = document  # type: ignore[method-assign]
