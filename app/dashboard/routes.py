"""The dashboard's pages and the partials htmx swaps in. Routes parse, call a service, render."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from app.adapters import secrets
from app.dashboard import session as sessions
from app.dashboard.auth import CsrfChecked, FormDep, SessionDep, SignedIn
from app.dashboard.deps import CounterDep, SettingsDep, SignInRecordsDep, StoreDep
from app.dashboard.errors import DashboardRoute
from app.dashboard.forms import CreateForm, ListFilters, parse_create
from app.dashboard.session import Session
from app.dashboard.views import Urls, htmx_target, is_htmx, live_key, render
from app.domain.errors import DataTooLarge, InvalidTaskInput, TaskNotFound, Throttled
from app.domain.sign_in import ThrottlePolicy
from app.services import dashboard, sign_in, tasks

router = APIRouter(prefix="/dashboard", route_class=DashboardRoute, include_in_schema=False)
root_router = APIRouter(include_in_schema=False)


@root_router.get("/")
def root(request: Request) -> RedirectResponse:
    return RedirectResponse(Urls(request)("dashboard_tasks"), status_code=307)


# --- sign-in ---------------------------------------------------------------


def _safe_next(request: Request, target: str | None) -> str:
    """Only a path of this dashboard: never another site (an open redirect)."""
    home = Urls(request)("dashboard_tasks")
    inside = target == home or target.startswith((home + "/", home + "?"))
    if not target or not inside or "//" in target or "\\" in target:
        return home
    return target


@router.get("/login", name="dashboard_login")
def login_page(request: Request, session: SessionDep, settings: SettingsDep, next: str = "") -> Response:
    if session and session.user:
        return RedirectResponse(_safe_next(request, next), status_code=303)
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
        )
    except Throttled as exc:
        headers = {"Retry-After": str(exc.retry_after)}
        return render(request, "pages/login.html", {**context, "error": str(exc)}, 429, headers)
    if session_id is None:
        return render(request, "pages/login.html", context, status_code=401)
    response = RedirectResponse(_safe_next(request, next_path), status_code=303)
    sessions.write(response, Session.signed_in(username, session_id), request, settings)
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
    find: dict[str, str] | None = None,
) -> dict[str, object]:
    return {
        "filters": filters,
        "tasks": overview.page.tasks,
        "counts": overview.counts,
        "next_token": overview.page.next_token,
        "paged": bool(next_token),
        "create_form": create_form or CreateForm(),
        "find": find or {"value": "", "error": ""},
        "in_flight": any(not task.status.is_terminal for task in overview.page.tasks),
    }


@router.get("", name="dashboard_tasks")
def task_list(
    request: Request, _: SignedIn, store: StoreDep, counter: CounterDep, next_token: str | None = None
) -> Response:
    filters = ListFilters.from_params(request.query_params)
    overview = dashboard.overview(store, counter, filters.query(), next_token or None)
    context = _list_context(filters, overview, next_token)
    if htmx_target(request) == "results":
        # The canonical URL (no empty fields) goes into the address bar and history.
        push = Urls(request)("dashboard_tasks", filters.params(next_token=next_token))
        return render(request, "partials/results.html", context, headers={"HX-Push-Url": push})
    return render(request, "pages/tasks.html", context)


@router.get("/rows", name="dashboard_rows")
def more_rows(request: Request, _: SignedIn, store: StoreDep, next_token: str) -> Response:
    """The next page of rows, appended under the ones shown ("Load more")."""
    filters = ListFilters.from_params(request.query_params)
    page = tasks.list_tasks(store, filters.query(), next_token)
    context = {"filters": filters, "tasks": page.tasks, "next_token": page.next_token}
    return render(request, "partials/rows.html", context)


@router.get("/live", name="dashboard_live")
def live(request: Request, _: SignedIn, store: StoreDep, counter: CounterDep) -> Response:
    """One request per tick for every in-flight row on the page; only rows that changed come back."""
    seen: dict[str, str] = {}
    for value in request.query_params.getlist("live"):
        task_id, _sep, fingerprint = value.partition("|")
        seen[task_id] = fingerprint
    current = dashboard.refresh(store, seen)
    changed = {
        task_id: task for task_id, task in current.items() if task is None or live_key(task) != seen[task_id]
    }
    moved = any(
        task is None or task.status.value != seen[task_id].split(":")[0] for task_id, task in changed.items()
    )
    filters = ListFilters.from_params(request.query_params)
    context = {
        "changed": changed,
        "filters": filters,
        "counts": counter.by_status(filters.task_type) if moved else None,
        "in_flight": any(task is not None and not task.status.is_terminal for task in current.values()),
    }
    return render(request, "partials/live.html", context)


@router.get("/find", name="dashboard_find")
def find(request: Request, _: SignedIn, store: StoreDep, counter: CounterDep, id: str = "") -> Response:
    try:
        task = dashboard.find_task(store, id)
    except TaskNotFound:
        message = f"No task has the id {id.strip()!r}." if id.strip() else "Paste a task id."
        if 0 < len(id.strip()) < 36:
            message += " Paste the full id: clicking a short id in the list copies it."
        filters = ListFilters()
        overview = dashboard.overview(store, counter, filters.query())
        context = _list_context(filters, overview, None, find={"value": id, "error": message})
        return render(request, "pages/tasks.html", context, status_code=404)
    return RedirectResponse(Urls(request)("dashboard_task", task_id=task.id), status_code=303)


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
    if new is not None:
        try:
            task = tasks.create_task(
                store,
                new.task_type,
                new.data,
                new.ttl,
                max_data_bytes=settings.max_data_bytes,
                default_ttl_seconds=settings.default_ttl_seconds,
            )
        except DataTooLarge as exc:
            typed.errors["data"] = str(exc)
        except InvalidTaskInput as exc:
            typed.errors["ttl"] = str(exc)
    if task is None:
        if is_htmx(request):
            return render(request, "partials/create_form.html", {"create_form": typed}, status_code=422)
        filters = ListFilters()
        overview = dashboard.overview(store, counter, filters.query())
        context = _list_context(filters, overview, None, create_form=typed)
        return render(request, "pages/tasks.html", context, status_code=422)
    if is_htmx(request):
        context = {"create_form": CreateForm(task_type=typed.task_type), "created": task}
        return render(request, "partials/created.html", context)
    return RedirectResponse(Urls(request)("dashboard_tasks"), status_code=303)


# --- one task --------------------------------------------------------------------


@router.get("/tasks/{task_id}", name="dashboard_task")
def task_detail(task_id: str, request: Request, _: SignedIn, store: StoreDep) -> Response:
    detail = dashboard.task_detail(store, task_id)
    context = {"task": detail.task, "detail": detail}
    if htmx_target(request) == "task-detail":
        return render(request, "partials/task_detail.html", context)
    return render(request, "pages/task.html", context)


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
    ids = [value for value in form.getlist("ids") if isinstance(value, str) and value]
    outcome = dashboard.retry_many(store, ids, default_ttl_seconds=settings.default_ttl_seconds)
    if not is_htmx(request):
        return RedirectResponse(Urls(request)("dashboard_tasks"), status_code=303)
    originals = dashboard.refresh(store, [retried.original_id for retried in outcome.retried])
    context = {"outcome": outcome, "originals": originals, "asked": len(ids)}
    return render(request, "partials/bulk_retried.html", context)
