"""The dashboard's pages and the partials htmx swaps in. Routes parse, call a service, render."""

from __future__ import annotations

import re
import time

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from app import bootstrap
from app.adapters import passwords, secrets
from app.api.deps import off_loop
from app.dashboard import device, timing
from app.dashboard import session as sessions
from app.dashboard.auth import CsrfChecked, FormDep, SessionDep, SignedIn
from app.dashboard.deps import CounterDep, SettingsDep, SignInRecordsDep, StoreDep
from app.dashboard.errors import DashboardRoute, InvalidParameter
from app.dashboard.forms import CreateForm, ListFilters, parse_create, ticked_ids
from app.dashboard.fragments import live_key
from app.dashboard.session import Session
from app.dashboard.views import Urls, htmx_target, is_htmx, render
from app.domain.errors import AlreadyRetried, DataTooLarge, InvalidTaskInput, TaskNotFound, Throttled
from app.domain.sign_in import ThrottlePolicy
from app.domain.task import TaskStatus
from app.services import dashboard, sign_in, tasks
from app.services.dashboard import RowKey

router = APIRouter(prefix="/dashboard", route_class=DashboardRoute, include_in_schema=False)
root_router = APIRouter(include_in_schema=False)


@root_router.get("/")
def root(request: Request) -> RedirectResponse:
    return RedirectResponse(Urls(request)("dashboard_tasks"), status_code=307)


# --- sign-in ---------------------------------------------------------------


def safe_next(request: Request, target: str | None) -> str:
    """Only a path of this dashboard: never another site (an open redirect)."""
    home = Urls(request)("dashboard_tasks")
    inside = target == home or target.startswith((home + "/", home + "?"))
    if not target or not inside or "//" in target or "\\" in target:
        return home
    return target


@router.get("/login", name="dashboard_login")
def login_page(request: Request, session: SessionDep, settings: SettingsDep, next: str = "") -> Response:
    if session and session.user:
        return RedirectResponse(safe_next(request, next), status_code=303)
    current = session or Session.anonymous()
    request.state.dashboard_session = current
    response = render(request, "pages/login.html", {"next": next, "username": "", "error": None})
    if session is None:
        sessions.write(response, current, request, settings)
    return response


MAX_USER_NAME_CHARS = 128


def _client(request: Request) -> str:
    # API Gateway's source address (Mangum puts it in the scope), never a header a client can set.
    return request.client.host if request.client else "unknown"


@router.post("/login", dependencies=[CsrfChecked])
def login(request: Request, form: FormDep, settings: SettingsDep, records: SignInRecordsDep) -> Response:
    username = str(form.get("username", ""))[:MAX_USER_NAME_CHARS]
    password, next_path = str(form.get("password", "")), str(form.get("next", ""))
    policy = ThrottlePolicy(
        settings.sign_in_window_seconds,
        settings.sign_in_failures_per_user,
        settings.sign_in_failures_per_client,
        settings.sign_in_failures_per_user_anywhere,
        settings.sign_in_failures_overall,
    )
    context = {"next": next_path, "username": username, "error": "Wrong user name or password."}
    try:
        session_id = sign_in.sign_in(
            records,
            secrets.dashboard_users(settings),
            policy,
            username,
            password,
            _client(request),
            session_seconds=settings.session_max_age_seconds,
            verify_password=passwords.verify,
            device=device.read(request, settings, username),
        )
    except Throttled as exc:
        headers = {"Retry-After": str(exc.retry_after)}
        return render(request, "pages/login.html", {**context, "error": str(exc)}, 429, headers)
    if session_id is None:
        return render(request, "pages/login.html", context, status_code=401)
    response = RedirectResponse(safe_next(request, next_path), status_code=303)
    sessions.write(response, Session.signed_in(username, session_id), request, settings)
    device.write(response, username, request, settings)
    return response


@router.post("/logout", name="dashboard_logout", dependencies=[CsrfChecked])
def logout(
    request: Request, session: SessionDep, settings: SettingsDep, records: SignInRecordsDep
) -> Response:
    if session is not None and session.user:
        users = secrets.dashboard_users(settings)
        sign_in.sign_out(records, users, session.user, session.id, _client(request))
    response = RedirectResponse(Urls(request)("dashboard_login"), status_code=303)
    sessions.clear(response, request, settings)
    return response


# --- the task list -------------------------------------------------------------


def _list_context(
    filters: ListFilters,
    overview: dashboard.Overview,
    next_token: str | None,
    create_form: CreateForm | None = None,
    find: dict[str, object] | None = None,
) -> dict[str, object]:
    page = overview.page
    return {
        "filters": filters,
        "tasks": timing.sorted_rows(page.tasks, filters.sort, time.time()),
        "counts": overview.counts,
        "counted": overview.tally.fingerprint,
        "created_total": overview.tally.created,
        "next_token": page.next_token,
        "paged": bool(next_token),
        # New tasks go on top of a list that starts at the newest task; a later page has no top.
        "watch_new": not next_token,
        "create_form": create_form or CreateForm(),
        "create_open": bool(create_form and create_form.errors),
        "find": find or {"value": "", "error": "", "matches": []},
        "in_flight": any(not task.status.is_terminal for task in page.tasks),
    }


@router.get("", name="dashboard_tasks")
async def task_list(
    request: Request, _: SignedIn, store: StoreDep, counter: CounterDep, next_token: str | None = None
) -> Response:
    filters = ListFilters.from_params(request.query_params)
    query = filters.query()
    overview = await off_loop(
        request, dashboard.overview, store, counter, query, next_token or None, filters.through
    )
    context = _list_context(filters, overview, next_token)
    if htmx_target(request) == "results":
        # The canonical URL (no empty fields) goes into the address bar and history.
        push = Urls(request)("dashboard_tasks", filters.params(next_token=next_token))
        return render(request, "partials/results.html", context, headers={"HX-Push-Url": push})
    return render(request, "pages/tasks.html", context)


@router.get("/rows", name="dashboard_rows")
async def more_rows(request: Request, _: SignedIn, store: StoreDep, next_token: str) -> Response:
    """The next page of rows, appended under the ones shown ("Load more").

    The address bar then names the last row shown (``through``), so Back and
    a reload rebuild every row loaded so far, not only the first page.
    """
    filters = ListFilters.from_params(request.query_params)
    page = await off_loop(request, tasks.list_tasks, store, filters.query(), next_token)
    context = {"filters": filters, "tasks": page.tasks, "next_token": page.next_token}
    headers = {}
    if page.tasks:
        through = str(RowKey.of(page.tasks[-1]))
        headers["HX-Replace-Url"] = Urls(request)("dashboard_tasks", filters.params(through=through))
    return render(request, "partials/rows.html", context, headers=headers)


COUNTS_FINGERPRINT = re.compile(r"^[0-9a-f]{8}$")


@router.get("/live", name="dashboard_live")
async def live(
    request: Request,
    _: SignedIn,
    store: StoreDep,
    counter: CounterDep,
    newest: str = "",
    counted: str = "",
    created: int = -1,
    watch: bool = False,
) -> Response:
    """One request per tick: in-flight rows that changed, tasks created since the top row, counts.

    A quiet tick (nothing changed, nothing new) reads the counts and the
    in-flight rows in one BatchGetItem; the listing is read only when the
    number of tasks ever created has moved since the page last looked.
    """
    seen: dict[str, str] = {}
    for value in request.query_params.getlist("live"):
        task_id, _sep, fingerprint = value.partition("|")
        seen[task_id] = fingerprint
    filters = ListFilters.from_params(request.query_params)
    try:
        top = RowKey.parse(newest) if watch and newest else None
    except ValueError:
        raise InvalidParameter("newest", "expected <created ms>-<task id>") from None
    if counted and not COUNTS_FINGERPRINT.match(counted):
        raise InvalidParameter("counted", "expected the counts' fingerprint the page was given")

    def read() -> dict[str, object]:
        tick = dashboard.tick(
            store, counter, filters.query(), seen, watch, top, None if created < 0 else created
        )
        changed = {
            task_id: task
            for task_id, task in tick.current.items()
            if task is None or live_key(task) != seen[task_id]
        }
        new = tick.new
        return {
            "changed": changed,
            "new": new,
            "counts": tick.tally.counts if tick.tally.fingerprint != counted else None,
            "counted": tick.tally.fingerprint,
            "created_total": tick.tally.created,
            "in_flight": any(
                task is not None and not task.status.is_terminal for task in tick.current.values()
            )
            or any(not task.status.is_terminal for task in new.tasks),
        }

    context = {"filters": filters, "watch_new": watch, **await off_loop(request, read)}
    return render(request, "partials/live.html", context)


@router.get("/find", name="dashboard_find")
def find(request: Request, _: SignedIn, store: StoreDep, counter: CounterDep, id: str = "") -> Response:
    """A full id, or the start of one (the short id the list shows): its page, or the tasks it may be."""
    status, error, found = 200, "", dashboard.Found()
    try:
        found = dashboard.find_task(store, id)
    except TaskNotFound:
        status, error = 404, f"No task has an id starting with {id.strip()!r}."
    except ValueError as exc:
        status, error = 400, str(exc)
    if found.task is not None:
        return RedirectResponse(Urls(request)("dashboard_task", task_id=found.task.id), status_code=303)
    filters = ListFilters()
    overview = dashboard.overview(store, counter, filters.query())
    lookup = {"value": id, "error": error, "matches": found.matches, "more": found.more}
    context = _list_context(filters, overview, None, find=lookup)
    return render(request, "pages/tasks.html", context, status_code=status)


# --- creating ------------------------------------------------------------------


@router.post("/tasks", name="dashboard_create", dependencies=[CsrfChecked])
def create(
    request: Request,
    _: SignedIn,
    form: FormDep,
    store: StoreDep,
    counter: CounterDep,
    settings: SettingsDep,
) -> Response:
    typed, new = parse_create(form)
    task = None
    source = tasks.get_task(store, typed.cloned_from) if typed.cloned_from else None
    # "Retry with edited data" of a FAILED task is a retry: linked to its original both ways.
    linked = source is not None and source.status is TaskStatus.FAILED and form.get("as_retry") == "1"
    if new is not None:
        limits = {
            "max_data_bytes": settings.max_data_bytes,
            "default_ttl_seconds": settings.default_ttl_seconds,
        }
        try:
            if linked:
                task = dashboard.retry_with_data(store, source.id, new.task_type, new.data, new.ttl, **limits)
            else:
                task = tasks.create_task(store, new.task_type, new.data, new.ttl, **limits)
        except DataTooLarge as exc:
            typed.errors["data"] = str(exc)
        except InvalidTaskInput as exc:
            typed.errors["ttl"] = str(exc)
        except AlreadyRetried as exc:
            typed.errors["data"] = (
                f"Task {source.id[:8]} was retried already, as {exc.retry_id[:8]}: open that one."
            )
    if task is None:
        if is_htmx(request):
            # With its source, so a retry's form stays a retry (as_retry) when drawn again.
            context = {"create_form": typed, **({"source": source} if source is not None else {})}
            return render(request, "partials/create_form.html", context, status_code=422)
        if source is not None:
            context = {"source": source, "create_form": typed}
            return render(request, "pages/new_task.html", context, status_code=422)
        filters = ListFilters()
        overview = dashboard.overview(store, counter, filters.query())
        context = _list_context(filters, overview, None, create_form=typed)
        return render(request, "pages/tasks.html", context, status_code=422)
    if typed.cloned_from:
        # From a task's "Clone" page: on to the new task's page.
        page = Urls(request)("dashboard_task", task_id=task.id)
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": page})
        return RedirectResponse(page, status_code=303)
    if is_htmx(request):
        context = {"create_form": CreateForm(task_type=typed.task_type), "created": task}
        return render(request, "partials/created.html", context)
    return RedirectResponse(Urls(request)("dashboard_tasks"), status_code=303)


# --- one task --------------------------------------------------------------------


@router.get("/tasks/{task_id}", name="dashboard_task")
async def task_detail(task_id: str, request: Request, _: SignedIn, store: StoreDep) -> Response:
    detail = await off_loop(request, dashboard.task_detail, store, task_id)
    events = [step.event for step in detail.timeline]
    context = {
        "task": detail.task,
        "detail": detail,
        "attempts": timing.attempts(events),
        "queue_wait_ms": timing.queue_wait_ms(events),
    }
    if htmx_target(request) == "task-detail":
        return render(request, "partials/task_detail.html", context)
    return render(request, "pages/task.html", context)


@router.post("/tasks/{task_id}/webhook/resend", name="dashboard_resend_webhook", dependencies=[CsrfChecked])
def resend_webhook(task_id: str, request: Request, _: SignedIn, store: StoreDep) -> Response:
    """Send a finished task's webhook again: the API's POST /tasks/{id}/webhook/resend, from its page."""
    from app.dashboard.errors import error_page
    from app.domain.errors import NoCallback
    from app.services import webhooks

    resend = bootstrap.webhook_resend(request.app.state)
    try:
        send = webhooks.resend(store, resend.deliveries, resend.queue, task_id)
    except NoCallback as exc:
        return error_page(request, 409, "Not possible", str(exc))
    if is_htmx(request):
        context = {"message": f"The webhook of task {task_id[:8]} is queued again (send {send})."}
        return render(request, "partials/notice.html", context)
    return RedirectResponse(Urls(request)("dashboard_task", task_id=task_id, query={"resent": send}), 303)


@router.get("/tasks/{task_id}/clone", name="dashboard_clone")
def clone(task_id: str, request: Request, _: SignedIn, store: StoreDep) -> Response:
    """The create form pre-filled from a task: "Retry with edited data" when it failed, "Clone" otherwise."""
    source = tasks.get_task(store, task_id)
    if source.unreadable:
        raise InvalidParameter("task_id", "this task's stored data can't be read, so it can't be copied")
    return render(
        request, "pages/new_task.html", {"source": source, "create_form": CreateForm.cloned(source)}
    )


@router.get("/tasks/{task_id}/retry", name="dashboard_confirm_retry")
def confirm_retry(task_id: str, request: Request, _: SignedIn, store: StoreDep) -> Response:
    """The confirmation step when JavaScript is off (htmx asks with a dialog instead)."""
    return render(request, "pages/confirm_retry.html", {"task": tasks.get_task(store, task_id)})


@router.post("/tasks/{task_id}/retry", name="dashboard_retry", dependencies=[CsrfChecked])
def retry(task_id: str, request: Request, _: SignedIn, store: StoreDep, settings: SettingsDep) -> Response:
    new = tasks.retry_task(store, task_id, default_ttl_seconds=settings.default_ttl_seconds)
    detail = Urls(request)("dashboard_task", task_id=new.id)
    if htmx_target(request) == f"task-{task_id}":
        # From its row: the row again, now naming its retry, and the retry on top.
        context = {"original": tasks.get_task(store, task_id), "retry": new}
        return render(request, "partials/retried.html", context)
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": detail})
    return RedirectResponse(detail, status_code=303)


@router.post("/retry", name="dashboard_retry_selected", dependencies=[CsrfChecked])
def retry_selected(
    request: Request, _: SignedIn, form: FormDep, store: StoreDep, settings: SettingsDep
) -> Response:
    """Retry the ticked tasks, or those a "matching this filter" confirmation named. Safe to repeat."""
    ids = ticked_ids(form)
    outcome = dashboard.retry_many(store, ids, default_ttl_seconds=settings.default_ttl_seconds)
    if not is_htmx(request):
        back = safe_next(request, str(form.get("back", "")))
        context = {"outcome": outcome, "asked": len(ids), "back": back}
        return render(request, "pages/bulk_retried.html", context, status_code=200 if ids else 400)
    originals = dashboard.refresh(store, [retried.original_id for retried in outcome.retried])
    context = {"outcome": outcome, "originals": originals, "asked": len(ids)}
    return render(request, "partials/bulk_retried.html", context)


@router.get("/retry-matching", name="dashboard_confirm_retry_matching")
def confirm_retry_matching(request: Request, _: SignedIn, store: StoreDep) -> Response:
    """Retry every failed task a filter matches: this page names how many, then posts their ids.

    Its address pins the moment it was first asked for (``as_of``, ms): shown
    again (Back, reload), it lists the same tasks or fewer, never the retries
    made from it since.
    """
    as_of = request.query_params.get("as_of", "")
    if not (as_of.isascii() and as_of.isdigit() and len(as_of) <= 13):
        pinned = {**request.query_params, "as_of": str(int(time.time() * 1000))}
        return RedirectResponse(Urls(request)("dashboard_confirm_retry_matching", pinned), status_code=303)
    filters = ListFilters.from_params(request.query_params)
    context = {
        "action": "retry",
        "matching": dashboard.failed_matching(store, filters.query(), as_of_ms=int(as_of)),
        "description": filters.describe(),
        "back": Urls(request)("dashboard_tasks", filters.params()),
    }
    return render(request, "pages/confirm_matching.html", context)
