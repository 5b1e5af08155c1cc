"""/dashboard/dead-letters: each task type's DLQ and the publisher-failures queue, and redrive.

What is shown and done is app/services/dead_letters.py's; the queues come
from the api's environment (deps.get_dead_letters). A redrive is asked on a
page that names how many messages it moves, then started with SQS
StartMessageMoveTask.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.deps import off_loop
from app.dashboard.auth import CsrfChecked, SignedIn
from app.dashboard.deps import DeadLettersDep, DeadLetterSetup, StoreDep
from app.dashboard.errors import DashboardRoute, PageNotFound
from app.dashboard.views import render
from app.services import dead_letters

router = APIRouter(prefix="/dashboard", route_class=DashboardRoute, include_in_schema=False)


def _queue(setup: DeadLetterSetup, key: str) -> str:
    """A redrivable queue's URL, by the task type it belongs to; anything else is a 404 page."""
    url, redrivable = setup.configured.get(key, ("", False))
    if not redrivable:
        raise PageNotFound(f"No dead-letter queue of a task type named {key[:40]!r} can be redriven.")
    return url


@router.get("/dead-letters", name="dashboard_dead_letters")
async def dead_letters_page(
    request: Request, _: SignedIn, store: StoreDep, setup: DeadLettersDep
) -> Response:
    views = await off_loop(request, dead_letters.overview, setup.queues, store, setup.configured)
    return render(request, "pages/dead_letters.html", {"views": views, "redriven": None})


@router.get("/dead-letters/{key}/redrive", name="dashboard_confirm_redrive")
async def confirm_redrive(request: Request, key: str, _: SignedIn, setup: DeadLettersDep) -> Response:
    """Names the count before anything moves (the count SQS moves is the messages visible when it starts)."""
    url = _queue(setup, key)
    look = await off_loop(request, setup.queues.look, url, True)
    context = {"key": key, "name": dead_letters.queue_name(url), "look": look}
    return render(request, "pages/confirm_redrive.html", context)


@router.post("/dead-letters/{key}/redrive", name="dashboard_redrive", dependencies=[CsrfChecked])
async def redrive(
    request: Request, key: str, _: SignedIn, store: StoreDep, setup: DeadLettersDep
) -> Response:
    url = _queue(setup, key)
    try:
        redriven = await off_loop(request, dead_letters.redrive, setup.queues, url)
    except dead_letters.RedriveRefused as exc:
        redriven = dead_letters.Redriven(0, False, str(exc))
    views = await off_loop(request, dead_letters.overview, setup.queues, store, setup.configured)
    context = {"views": views, "redriven": redriven, "redriven_key": key}
    return render(request, "pages/dead_letters.html", context, status_code=200 if redriven.started else 409)
