"""The request size limit: a body over MAX_REQUEST_BYTES is refused with 413 before anything parses it."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from app.api.errors import error_body


class BodySizeLimitMiddleware:
    """Reads at most ``max_bytes`` + 1 of a body, then hands the body on, or answers 413."""

    def __init__(self, app: Any, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        # A body sent without a length (chunked) is counted as it arrives.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                chunks = []
                pending = [message]
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
                break

        async def replay() -> dict[str, Any]:
            return pending.pop(0) if pending else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        response = JSONResponse(
            error_body("request_too_large", f"The request body is larger than {self.max_bytes} bytes"),
            status_code=413,
        )
        await response(scope, receive, send)
