"""What the OpenAPI document says, beyond the routes' own types: declared once, here.

Every error response of every route uses the one error body the API really
sends; every /tasks route declares the x-api-key scheme; the 202s declare
their Location and Retry-After headers, the 409, 429 and 503 their
Retry-After; the webhook a task's callback_url receives is under
``webhooks`` (OpenAPI 3.1). The document is served at /openapi.json, behind
the API key like the routes it describes.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Header
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from app.api.auth import PROTECTED_PREFIX
from app.api.schemas import TaskOut
from app.domain import rules, webhooks
from app.task_registry import names

if TYPE_CHECKING:
    from fastapi import FastAPI

# ApiKeyMiddleware checks x-api-key before any route runs: a dependency per route
# would only declare it, and cost every request a dependency to solve.
API_KEY_SCHEME = {"ApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}}


class ErrorDetail(BaseModel):
    location: str = Field(examples=["body.task_type"])
    message: str


class ErrorBody(BaseModel):
    """Every error of the API: a code to branch on and a sentence for people."""

    error: str = Field(description="A stable code, e.g. not_found")
    message: str = Field(description="What went wrong, for a person")
    details: list[ErrorDetail] | None = Field(default=None, description="One entry per invalid field (422)")
    current_status: str | None = Field(default=None, description="The task's status (409)")
    parameter: str | None = Field(
        default=None, description="The SSM parameter that is missing or unreadable (503 not_configured)"
    )


def _example(error: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"summary": message, "value": {"error": error, "message": message, **extra}}


# status -> (description, examples)
# Stands for the declared task types' names in the examples, until the document is made.
KNOWN_TYPES = "<known task types>"

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
        "The state machine forbids it (current_status names the task's status), or a request with the "
        "same Idempotency-Key is in flight (try again after Retry-After)",
        {
            "invalid_transition": _example(
                "invalid_transition",
                "Task 0b6f3f8e-6a0e-4a55-9d4f-2f0c1d7b9a10 is COMPLETED; it cannot move to IN_PROGRESS",
                current_status="COMPLETED",
            ),
            "no_webhook": _example(
                "no_webhook",
                "Task 0b6f3f8e-6a0e-4a55-9d4f-2f0c1d7b9a10 has no callback_url",
                current_status="COMPLETED",
            ),
            "idempotency_key_in_flight": _example(
                "idempotency_key_in_flight",
                "A request with this Idempotency-Key is in flight; try again in a moment",
            ),
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
                f"Invalid request: body.task_type: unknown task_type 'NOPE'; known types: {KNOWN_TYPES}",
                details=[
                    {
                        "location": "body.task_type",
                        "message": f"unknown task_type 'NOPE'; known types: {KNOWN_TYPES}",
                    }
                ],
            ),
            "invalid_input": _example("invalid_input", "ttl 1000 is in the past (now is 1795920941)"),
            "idempotency_key_reused": _example(
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request in the last 24 hours; "
                "use a new key for a new request",
            ),
            "too_deeply_nested": _example(
                "too_deeply_nested",
                f"the body nests objects and arrays more than {rules.MAX_DATA_DEPTH + 1} levels deep; "
                f"data may nest at most {rules.MAX_DATA_DEPTH} levels",
            ),
        },
    ),
    429: (
        "Too many requests (the stage's throttling, or a webhook resent within the minute): "
        "try again after Retry-After seconds",
        {"too_many_requests": _example("too_many_requests", "Too many requests; try again in 1 s")},
    ),
    503: (
        "DynamoDB could not be reached, or the stage's secrets are not configured; "
        "try again after Retry-After seconds",
        {
            "store_unavailable": _example("store_unavailable", "DynamoDB query failed: ThrottlingException"),
            "not_configured": _example(
                "not_configured",
                "This stage is not configured: SSM parameter /async-app/dev/api-keys is missing or "
                "unreadable (ParameterNotFound); docs/deploy.md says how to create it "
                "(make preflight lists what is missing)",
                parameter="/async-app/dev/api-keys",
            ),
        },
    ),
}

RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before asking again (on a 202: before polling the task)",
        "schema": {"type": "integer", "minimum": 0},
    }
}
# Statuses whose answers carry Retry-After (a 409 only when a request with the same key is in flight).
WITH_RETRY_AFTER = {429: True, 503: True}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route that can answer these error statuses."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        responses[status] = {
            "model": ErrorBody,
            "description": ERRORS[status][0],
            "content": {"application/json": {"examples": ERRORS[status][1]}},
        }
        if status in WITH_RETRY_AFTER:
            responses[status]["headers"] = RETRY_AFTER
    return responses


# Every protected route can answer these, whatever it does.
PROTECTED = (401, 429, 503)


def accepted(
    model: type[BaseModel],
    description: str,
    location: str = "The task's status URL: poll it (GET) for the result",
) -> dict[int | str, dict[str, Any]]:
    """A 202 with its body, and the Location and Retry-After headers of the async request-reply pattern."""
    headers = {
        "Location": {
            "description": location,
            "schema": {"type": "string", "format": "uri"},
            "required": True,
        },
        **RETRY_AFTER,
        "Idempotent-Replayed": {
            "description": "true when this is the first answer to the same Idempotency-Key, given again",
            "schema": {"type": "string", "enum": ["true"]},
        },
    }
    return {202: {"model": model, "description": description, "headers": headers}}


def _without_fastapi_validation_errors(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI adds a 422 of its own shape to every route with parameters; the API never sends that shape."""
    for operations in [*document["paths"].values(), *document.get("webhooks", {}).values()]:
        for operation in operations.values():
            schema = operation["responses"].get("422", {}).get("content", {}).get("application/json", {})
            if schema.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                del operation["responses"]["422"]
    for name in ("HTTPValidationError", "ValidationError"):
        document["components"]["schemas"].pop(name, None)
    return document


def _with_api_key_scheme(document: dict[str, Any]) -> dict[str, Any]:
    """Every /tasks operation needs x-api-key."""
    document["components"]["securitySchemes"] = API_KEY_SCHEME
    for path, operations in document["paths"].items():
        if path == PROTECTED_PREFIX or path.startswith(PROTECTED_PREFIX + "/"):
            for operation in operations.values():
                operation["security"] = [{name: []} for name in API_KEY_SCHEME]
    return document


class ResponsesDocumentedLater(APIRoute):
    """A route whose documented response models are put in the OpenAPI document when it is made.

    FastAPI builds a pydantic field for every ``responses`` model as it
    defines a route, and again as it first routes a request to it, though
    only the document reads them: for the api's 55, that was most of the
    handler's cold start beyond a bare app's. Here they are kept aside, for
    ``_with_documented_models``.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        responses = kwargs.pop("responses", None) or {}
        self.documented_models = {str(code): r["model"] for code, r in responses.items() if "model" in r}
        kwargs["responses"] = {
            code: {key: value for key, value in r.items() if key != "model"} for code, r in responses.items()
        }
        super().__init__(path, endpoint, **kwargs)


def _with_documented_models(document: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """Each documented response's body schema, as FastAPI would have written it."""
    from fastapi.encoders import jsonable_encoder
    from fastapi.openapi.models import Schema
    from fastapi.routing import iter_route_contexts
    from pydantic.json_schema import models_json_schema

    documented = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, ResponsesDocumentedLater) and route.include_in_schema:
            for method in context.methods or ():
                documented[context.path_format, method.lower()] = route.documented_models
    models = {model for by_status in documented.values() for model in by_status.values()}
    refs, schemas = models_json_schema(
        [(model, "serialization") for model in models], ref_template="#/components/schemas/{model}"
    )
    # Through FastAPI's own model of a schema, as the rest of the document went.
    written = {
        name: jsonable_encoder(Schema(**schema), by_alias=True, exclude_none=True)
        for name, schema in schemas["$defs"].items()
    }
    document["components"]["schemas"] = dict(sorted({**written, **document["components"]["schemas"]}.items()))
    for (path, method), by_status in documented.items():
        responses = document["paths"][path][method]["responses"]
        for status, model in by_status.items():
            content = responses[status].setdefault("content", {}).setdefault("application/json", {})
            content["schema"] = refs[model, "serialization"]
    return document


def _with_task_type_names(document: dict[str, Any]) -> dict[str, Any]:
    """The examples name the task types declared in workers/tasks/ (read only when the document is made)."""
    return json.loads(json.dumps(document).replace(KNOWN_TYPES, ", ".join(names())))


def install(app: FastAPI, clock: Callable[[], float] = time.time) -> None:
    """Serve the document with the ttl and run_at bounds of the moment it is read (both within a year)."""
    _declare_webhook(app)
    generate = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_task_type_names(
                _with_api_key_scheme(
                    _without_fastapi_validation_errors(_with_documented_models(generate(), app))
                )
            )
        served = copy.deepcopy(app.openapi_schema)
        fields = served["components"]["schemas"]["CreateTaskRequest"]["properties"]
        now = int(clock())
        fields["ttl"]["anyOf"][0].update(minimum=now + 1, maximum=now + rules.MAX_TTL_SECONDS)
        fields["run_at"]["anyOf"][0].update(minimum=now, maximum=now + rules.MAX_RUN_AT_SECONDS)
        return served

    app.openapi = document  # type: ignore[method-assign]


WEBHOOK_DESCRIPTION = f"""\
When a task that has a `callback_url` ends (COMPLETED, FAILED or CANCELLED), the service POSTs
the task, as `GET /tasks/{{id}}` returns it, to that URL, signed per the Standard Webhooks
specification: `webhook-signature` is `v1,` and the base64 HMAC-SHA256 of
`"<webhook-id>.<webhook-timestamp>.<body>"`, keyed with the stage's secret (`whsec_<base64>`;
verify it with the `standardwebhooks` package). Any 2xx answer is a delivery; anything else, or
no answer within 10 s, is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h
({webhooks.MAX_ATTEMPTS} attempts in all), then given up. `webhook-id` is the same on every attempt and
resend of one task's webhook: drop one you have seen. `POST /tasks/{{id}}/webhook/resend` sends it again.
"""


def _declare_webhook(app: FastAPI) -> None:
    """The webhook, as OpenAPI 3.1 ``webhooks``: what a callback_url receives."""

    @app.webhooks.post(
        "task-finished",
        operation_id="task_finished",
        summary="A task ended",
        description=WEBHOOK_DESCRIPTION,
        responses={200: {"description": "Any 2xx: delivered"}},
    )
    def task_finished(
        body: TaskOut,
        webhook_id: Annotated[
            str, Header(alias="webhook-id", examples=["msg_0b6f3f8e-6a0e-4a55-9d4f-2f0c1d7b9a10"])
        ],
        webhook_timestamp: Annotated[int, Header(alias="webhook-timestamp", description="Epoch seconds")],
        webhook_signature: Annotated[
            str, Header(alias="webhook-signature", description="v1,<base64 HMAC-SHA256>", pattern=r"^v1,")
        ],
    ) -> None:
        """Declared for the document; the service sends it (workers/webhooks.py)."""
