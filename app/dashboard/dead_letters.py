"""/dashboard/dead-letters: each task type's DLQ and the publisher-failures queue, redrive and purge,
and each message on a page of its own: view it, retry it (back to its queue), delete it.

What is shown and done is app/services/dead_letters.py's; the queues come
from the api's environment (deps.get_dead_letters). A redrive (retry all) and
a purge (delete all) are asked on a page that names how many messages they
take; the outcome names the count that was confirmed.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.deps import off_loop
from app.dashboard.auth import CsrfChecked, FormDep, SignedIn
from app.dashboard.deps import DeadLettersDep, DeadLetterSetup, SettingsDep, StoreDep
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


def _any_queue(setup: DeadLetterSetup, key: str) -> tuple[str, bool]:
    """Any configured queue's URL (and whether it is a task type's DLQ); a 404 page otherwise."""
    if key not in setup.configured:
        raise PageNotFound(f"No dead-letter queue named {key[:40]!r} is configured.")
    return setup.configured[key]


MESSAGE_ID = re.compile(r"^[0-9A-Za-z-]{1,100}$")


def _message_id(message_id: str) -> str:
    if not MESSAGE_ID.match(message_id):
        raise PageNotFound("That is not the id of an SQS message.")
    return message_id


async def _page(
    request: Request, store: StoreDep, setup: DeadLetterSetup, status_code: int = 200, **outcome: object
) -> Response:
    views = await off_loop(request, dead_letters.overview, setup.queues, store, setup.configured)
    context = {"views": views, "redriven": None, "done": None, "done_ok": True, "confirmed": None, **outcome}
    return render(request, "pages/dead_letters.html", context, status_code=status_code)


@router.get("/queues", name="dashboard_queues")
async def queues_page(
    request: Request, _: SignedIn, store: StoreDep, settings: SettingsDep, setup: DeadLettersDep
) -> Response:
    """Per task type: queue depth, in flight, oldest waiting task, DLQ depth, workers' capacity."""
    capacities = dead_letters.capacities(settings.worker_reserved_concurrency)
    views = await off_loop(
        request, dead_letters.queues_view, setup.queues, store, setup.configured, capacities
    )
    return render(request, "pages/queues.html", {"views": views})


@router.get("/dead-letters", name="dashboard_dead_letters")
async def dead_letters_page(
    request: Request, _: SignedIn, store: StoreDep, setup: DeadLettersDep
) -> Response:
    return await _page(request, store, setup)


@router.get("/dead-letters/{key}/messages/{message_id}", name="dashboard_dead_letter")
async def dead_letter(
    request: Request, key: str, message_id: str, _: SignedIn, store: StoreDep, setup: DeadLettersDep
) -> Response:
    """One message in full: its body, attributes and task, with Retry this one and Delete."""
    url, redrivable = _any_queue(setup, key)
    try:
        view = await off_loop(
            request, dead_letters.view_message, setup.queues, store, url, _message_id(message_id)
        )
    except dead_letters.MessageGone:
        view = None
    context = {"key": key, "name": dead_letters.queue_name(url), "redrivable": redrivable, "view": view}
    return render(request, "pages/dead_letter.html", context, status_code=200 if view else 404)


@router.post(
    "/dead-letters/{key}/messages/{message_id}/retry",
    name="dashboard_retry_dead_letter",
    dependencies=[CsrfChecked],
)
async def retry_dead_letter(
    request: Request, key: str, message_id: str, _: SignedIn, store: StoreDep, setup: DeadLettersDep
) -> Response:
    moved = f"moved back to the {key} queue, where its workers take it again."
    gone = f"is no longer in {key}'s dead-letter queue: nothing was moved."
    url = _queue(setup, key)
    return await _on_message(request, store, setup, dead_letters.retry_one, url, message_id, moved, gone)


@router.post(
    "/dead-letters/{key}/messages/{message_id}/delete",
    name="dashboard_delete_dead_letter",
    dependencies=[CsrfChecked],
)
async def delete_dead_letter(
    request: Request, key: str, message_id: str, _: SignedIn, store: StoreDep, setup: DeadLettersDep
) -> Response:
    url, _redrivable = _any_queue(setup, key)
    gone = "is no longer in the queue: nothing was deleted."
    return await _on_message(
        request, store, setup, dead_letters.delete_one, url, message_id, "was deleted.", gone
    )


async def _on_message(
    request: Request,
    store: Any,
    setup: DeadLetterSetup,
    act: Any,
    url: str,
    message_id: str,
    done: str,
    gone: str,
) -> Response:
    """Do ``act`` to one message and show the page saying so; 409 when it is gone (safe to repeat)."""
    short = _message_id(message_id)[:8]
    try:
        await off_loop(request, act, setup.queues, url, message_id)
    except dead_letters.MessageGone:
        return await _page(request, store, setup, 409, done=f"Message {short} {gone}", done_ok=False)
    return await _page(request, store, setup, done=f"Message {short} {done}")


@router.get("/dead-letters/{key}/purge", name="dashboard_confirm_purge")
async def confirm_purge(request: Request, key: str, _: SignedIn, setup: DeadLettersDep) -> Response:
    """Names how many messages go (waiting and being read) before any does."""
    url, _redrivable = _any_queue(setup, key)
    look = await off_loop(request, setup.queues.look, url, False)
    context = {"key": key, "name": dead_letters.queue_name(url), "count": look.visible + look.in_flight}
    return render(request, "pages/confirm_purge.html", context)


@router.post("/dead-letters/{key}/purge", name="dashboard_purge", dependencies=[CsrfChecked])
async def purge(
    request: Request, key: str, _: SignedIn, form: FormDep, store: StoreDep, setup: DeadLettersDep
) -> Response:
    url, _redrivable = _any_queue(setup, key)
    confirmed = str(form.get("count", ""))
    try:
        held = await off_loop(request, dead_letters.delete_all, setup.queues, url)
    except dead_letters.RedriveRefused as exc:
        return await _page(request, store, setup, 409, done=f"Nothing was deleted: {exc}.", done_ok=False)
    named = f"{confirmed} when you confirmed, " if confirmed.isdigit() else ""
    done = f"Every message of {key}'s queue was deleted ({named}{held} just before)."
    return await _page(request, store, setup, done=done)


@router.get("/dead-letters/{key}/redrive", name="dashboard_confirm_redrive")
async def confirm_redrive(request: Request, key: str, _: SignedIn, setup: DeadLettersDep) -> Response:
    """Names the count before anything moves (the count SQS moves is the messages visible when it starts)."""
    url = _queue(setup, key)
    look = await off_loop(request, setup.queues.look, url, True)
    context = {"key": key, "name": dead_letters.queue_name(url), "look": look}
    return render(request, "pages/confirm_redrive.html", context)


@router.post("/dead-letters/{key}/redrive", name="dashboard_redrive", dependencies=[CsrfChecked])
async def redrive(
    request: Request, key: str, _: SignedIn, form: FormDep, store: StoreDep, setup: DeadLettersDep
) -> Response:
    url = _queue(setup, key)
    try:
        redriven = await off_loop(request, dead_letters.redrive, setup.queues, url)
    except dead_letters.RedriveRefused as exc:
        redriven = dead_letters.Redriven(0, False, str(exc))
    status = 200 if redriven.started else 409
    confirmed = str(form.get("count", ""))
    # The count the confirmation named, beside the count SQS moves: the two can differ (messages come and go).
    shown = int(confirmed) if confirmed.isdigit() and int(confirmed) != redriven.count else None
    return await _page(request, store, setup, status, redriven=redriven, redriven_key=key, confirmed=shown)
