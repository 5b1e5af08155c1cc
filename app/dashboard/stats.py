"""/dashboard/stats: per task type, the last hour per minute and the last day per hour, as SVG charts.

Read from the aggregates the changes function keeps (app/services/stats.py):
two BatchGetItem requests a view, whatever the number of tasks, so the page
polls itself (every STATS_POLL_SECONDS) with htmx.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.deps import off_loop
from app.dashboard.auth import SignedIn
from app.dashboard.deps import StatsDep
from app.dashboard.errors import DashboardRoute
from app.dashboard.views import htmx_target, render

router = APIRouter(prefix="/dashboard", route_class=DashboardRoute, include_in_schema=False)

STATS_POLL_SECONDS = 30


@router.get("/stats", name="dashboard_stats")
async def stats_page(request: Request, _: SignedIn, reader: StatsDep) -> Response:
    from app.services import stats

    context = {"types": await off_loop(request, stats.stats, reader), "poll_seconds": STATS_POLL_SECONDS}
    if htmx_target(request) == "stats":
        return render(request, "partials/stats.html", context)
    return render(request, "pages/stats.html", context)
