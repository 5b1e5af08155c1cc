"""The operators' dashboard: HTML pages and htmx partials, served by the api Lambda beside the JSON API.

The dashboard is a FastAPI app of its own, built on its first request: a cold
start that serves the JSON API never imports its routes, templates or Jinja2.
Both apps share one state (settings, store) and the same root path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.datastructures import State

PREFIX = "/dashboard"


def is_dashboard_path(scope: dict[str, Any]) -> bool:
    """``/``, ``/dashboard`` and below, with or without the root path in front (Mangum leaves it out)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and (path == root or path.startswith(root + "/")):
        path = path[len(root) :] or "/"
    return path == "/" or path == PREFIX or path.startswith(PREFIX + "/")


def build(state: State) -> FastAPI:
    from fastapi import FastAPI
    from starlette.exceptions import HTTPException

    from app.api.errors import register_error_handlers
    from app.dashboard import cancellation, dead_letters, stats
    from app.dashboard.errors import http_error
    from app.dashboard.routes import root_router, router
    from app.dashboard.static_files import VersionedStaticFiles
    from app.dashboard.views import STATIC_DIR

    # The root path is already in the scope: the api app sets it before routing here.
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state = state
    register_error_handlers(app)
    app.add_exception_handler(HTTPException, http_error)
    app.include_router(root_router)
    app.include_router(router)
    app.include_router(cancellation.router)
    app.include_router(stats.router)
    app.include_router(dead_letters.router)
    app.mount(f"{PREFIX}/static", VersionedStaticFiles(directory=STATIC_DIR), name="dashboard_static")
    return app


class DashboardMiddleware:
    """Sends the dashboard's requests to the dashboard app (built on the first of them); the rest go on."""

    def __init__(self, app: Any, state: State):
        self.app = app
        self.state = state
        self.dashboard: Any = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not is_dashboard_path(scope):
            await self.app(scope, receive, send)
            return
        if self.dashboard is None:
            self.dashboard = build(self.state)
        await self.dashboard(with_root_in_path(scope), receive, send)


def with_root_in_path(scope: dict[str, Any]) -> dict[str, Any]:
    """The scope with its root path in front of its path, as ASGI has it and as mounts need it.

    Mangum passes API Gateway's path without the stage; uvicorn and the test
    client pass it with. Mounted apps (the static files) only work with.
    """
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if not root or path == root or path.startswith(root + "/"):
        return scope
    moved = {**scope, "path": root + path}
    if scope.get("raw_path"):
        moved["raw_path"] = root.encode() + scope["raw_path"]
    return moved
