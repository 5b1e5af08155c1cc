"""Cancelling tasks from the dashboard: one (its row or its page), the ticked ones, or all a filter matches.

The rules are app/services/tasks.py cancel_task's (CREATED or SCHEDULED: at
once; IN_PROGRESS: at its worker's next progress write or its end; ended:
refused, shown in the page as an error). The timeline records who asked: the
signed-in user, from the dashboard.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from app.dashboard.auth import CsrfChecked, FormDep, SignedIn
from app.dashboard.deps import StoreDep
from app.dashboard.errors import DashboardRoute
from app.dashboard.forms import ListFilters, ticked_ids
from app.dashboard.routes import safe_next
from app.dashboard.views import Urls, htmx_target, is_htmx, render
from app.services import dashboard, tasks

router = APIRouter(prefix="/dashboard", route_class=DashboardRoute, include_in_schema=False)


@router.get("/tasks/{task_id}/cancel", name="dashboard_confirm_cancel")
def confirm_cancel(task_id: str, request: Request, _: SignedIn, store: StoreDep) -> Response:
    """The confirmation step when JavaScript is off (htmx asks with a dialog instead)."""
    return render(request, "pages/confirm_cancel.html", {"task": tasks.get_task(store, task_id)})


@router.post("/tasks/{task_id}/cancel", name="dashboard_cancel", dependencies=[CsrfChecked])
def cancel(task_id: str, request: Request, session: SignedIn, store: StoreDep) -> Response:
    task = tasks.cancel_task(store, task_id, session.user or "", source="dashboard")
    target = htmx_target(request)
    if target == f"task-{task_id}":
        # From its row: the row as it is now, and what happened in the alert area.
        return render(request, "partials/cancelled.html", {"task": task})
    page = Urls(request)("dashboard_task", task_id=task_id)
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": page})
    return RedirectResponse(page, status_code=303)


@router.post("/cancel", name="dashboard_cancel_selected", dependencies=[CsrfChecked])
def cancel_selected(request: Request, session: SignedIn, form: FormDep, store: StoreDep) -> Response:
    """Cancel the ticked tasks, or those a "matching this filter" confirmation named. Safe to repeat."""
    ids = ticked_ids(form)
    outcome = dashboard.cancel_many(store, ids, session.user or "")
    context = {"outcome": outcome, "asked": len(ids)}
    if not is_htmx(request):
        back = safe_next(request, str(form.get("back", "")))
        return render(request, "pages/bulk_cancelled.html", {**context, "back": back}, 200 if ids else 400)
    return render(request, "partials/bulk_cancelled.html", context)


@router.get("/cancel-matching", name="dashboard_confirm_cancel_matching")
def confirm_cancel_matching(request: Request, _: SignedIn, store: StoreDep) -> Response:
    """Cancel every task in flight a filter matches: this page names how many, then posts their ids."""
    filters = ListFilters.from_params(request.query_params)
    context = {
        "action": "cancel",
        "matching": dashboard.in_flight_matching(store, filters.query()),
        "description": filters.describe(with_status=True),
        "back": Urls(request)("dashboard_tasks", filters.params()),
    }
    return render(request, "pages/confirm_matching.html", context)
