"""The operators' dashboard: HTML pages and htmx partials, served by the api Lambda beside the JSON API."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Add the dashboard's routes and static files to ``app``; Jinja2 loads with the first page."""
    from app.dashboard.routes import root_router, router
    from app.dashboard.static_files import VersionedStaticFiles
    from app.dashboard.views import STATIC_DIR

    app.include_router(root_router)
    app.include_router(router)
    app.mount("/dashboard/static", VersionedStaticFiles(directory=STATIC_DIR), name="dashboard_static")
