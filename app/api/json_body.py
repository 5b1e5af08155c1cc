"""JSON request bodies must be standard JSON: checked before FastAPI parses them.

Python's json module reads NaN, Infinity, lone surrogates and any depth,
and FastAPI would hand them to the routes: a task stored with them could
not be written back as JSON. These routes refuse them with a 4xx instead.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.api.openapi import ResponsesDocumentedLater
from app.domain import rules


def is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class StrictJsonRoute(ResponsesDocumentedLater):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            if is_json(request):
                body = await request.body()
                if body:
                    rules.parse_request_body(body)
            return await handler(request)

        return handle
