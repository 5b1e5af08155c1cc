"""The api Lambda: one FastAPI app, served by Mangum in AWS and by uvicorn locally."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from app import observability
from app.api import openapi
from app.api.auth import ApiKeyMiddleware
from app.api.errors import register_error_handlers
from app.api.limits import BodySizeLimitMiddleware
from app.api.routes import health_router, router
from app.compression import CompressionMiddleware
from app.dashboard import DashboardMiddleware
from app.dashboard.headers import SecurityHeadersMiddleware
from app.services.tasks import TaskRepository
from app.settings import Settings, get_settings

if TYPE_CHECKING:
    from app.services.dashboard import StatusCounter


def create_app(
    settings: Settings | None = None,
    store: TaskRepository | None = None,
    counter: StatusCounter | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    settings = settings or get_settings()
    # No /docs or /redoc: both load their assets from a CDN.
    app = FastAPI(title="async-app", docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.store = store
    app.state.counter = counter
    app.state.clock = clock
    register_error_handlers(app)
    openapi.install(app, clock)
    app.add_middleware(ApiKeyMiddleware, settings=settings)
    app.add_middleware(DashboardMiddleware, state=app.state)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    # Added late, so outer: every response gets the headers, refusals included.
    app.add_middleware(SecurityHeadersMiddleware, https=not settings.is_local)
    app.add_middleware(CompressionMiddleware)
    app.add_middleware(RootPathMiddleware, root_path=settings.root_path)
    app.include_router(health_router)
    app.include_router(router)
    return app


class RootPathMiddleware:
    """Serve under a path prefix (API Gateway's stage, e.g. "/dev"): every link and redirect gets it.

    Sets the ASGI root_path, which Mangum leaves empty, as FastAPI's deprecated
    ``root_path`` argument did. Outermost, so every other middleware sees it.
    """

    def __init__(self, app: Any, root_path: str):
        self.app = app
        self.root_path = root_path

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self.root_path and scope["type"] in ("http", "websocket") and not scope.get("root_path"):
            scope = {**scope, "root_path": self.root_path}
        await self.app(scope, receive, send)


def lambda_adapter(app: FastAPI) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The app as a Lambda handler of API Gateway events (Mangum)."""
    from mangum import Mangum
    from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

    # lifespan="off": the app has no startup work, and "auto" runs it per call.
    # The dashboard's SVG icon is text: sent base64-encoded, a REST API
    # without binaryMediaTypes would pass the base64 through to browsers.
    return Mangum(app, lifespan="off", text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, "image/svg+xml"])


_lambda_handler = None


@observability.lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point; the app is built on the first call, not at import."""
    global _lambda_handler
    if _lambda_handler is None:
        _lambda_handler = lambda_adapter(create_app())
    return _lambda_handler(event, context)
