"""Rendering: the Jinja2 environment (built on first use, not at import) and its helpers."""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse

from app.dashboard import timing
from app.dashboard.charts import WIDTH as CHART_WIDTH
from app.dashboard.charts import timeline_bars
from app.domain.task import Task, TaskStatus
from app.domain.task_types import TASK_TYPES
from app.services.dashboard import NEW_ROWS_PER_TICK, RowKey

if TYPE_CHECKING:
    import jinja2

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"
HTMX_FILE = "htmx-2.0.11.min.js"


@functools.cache
def environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        # Every template is HTML: everything a user typed is escaped.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        ago=ago,
        utc=utc,
        iso=iso,
        utc_ms=utc_ms,
        iso_ms=iso_ms,
        duration=duration,
        short_id=short_id,
        pretty_json=pretty_json,
        thousands=thousands,
        live_key=live_key,
        span=timing.span,
        duration_seconds=timing.duration_seconds,
        waiting_seconds=timing.waiting_seconds,
        row_key=row_key,
        status_rank=status_rank,
    )
    from app.dashboard.forms import RANGE_LABELS

    env.globals.update(
        task_types=list(TASK_TYPES),
        statuses=[s.value for s in TaskStatus],
        htmx=HTMX_FILE,
        timeline_bars=timeline_bars,
        chart_width=CHART_WIDTH,
        sorts=timing.SORTS,
        range_labels=RANGE_LABELS,
        new_per_tick=NEW_ROWS_PER_TICK,
    )
    return env


def live_key(task: Task) -> str:
    """What an in-flight row last showed; the live poller re-sends only rows whose key changed."""
    progress = "" if task.progress is None else task.progress
    return f"{task.status.value}:{progress}:{task.updated_time or ''}"


def row_key(task: Task) -> str:
    return str(RowKey.of(task))


def status_rank(task: Task) -> int:
    return timing.STATUS_RANK[task.status]


def short_id(task_id: str) -> str:
    return task_id[:8]


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def thousands(value: int) -> str:
    return f"{value:,}"


def utc(epoch: int | None) -> str:
    if epoch is None:
        return "—"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_ms(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def iso_ms(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def duration(ms: int) -> str:
    """'850 ms', '1.2 s', '3 min 5 s', '2 h 10 min': a time span as a person reads it."""
    if ms < 1000:
        return f"{ms} ms"
    if ms < 59_950:  # what would not round up to "60.0 s"
        return f"{ms / 1000:.1f} s"
    seconds = round(ms / 1000)
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def ago(epoch: int | None, now: float | None = None) -> str:
    """'12 s ago', '3 min ago', 'in 6 d': the same words static/app.js keeps up to date."""
    if epoch is None:
        return "—"
    delta = int((time.time() if now is None else now) - epoch)
    future, seconds = delta < 0, abs(delta)
    if seconds < 5:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size:
            amount = f"{seconds // size} {unit}"
            return f"in {amount}" if future else f"{amount} ago"
    return "just now"


# Stands for a path parameter in a cached route path; no real value contains it.
_PLACEHOLDER = "\x1f{}\x1f"


@functools.cache
def _static_version(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


class Urls:
    """Paths for templates and redirects, always under the request's root path (the API stage).

    Each route's path is looked up once per render (the router walk is the
    costly part); its path parameters are then filled in by replacing
    placeholders, so a 50-row page does not walk the router per row.
    """

    def __init__(self, request: Request):
        self.request = request
        self.root = request.scope.get("root_path", "")
        self._templates: dict[tuple[str, tuple[str, ...]], str] = {}

    def __call__(self, name: str, query: Mapping[str, Any] | None = None, **path_params: Any) -> str:
        path = self._path(name, path_params)
        if not query:
            return path
        params = {key: value for key, value in query.items() if value not in (None, "")}
        return f"{path}?{urlencode(params, doseq=True)}" if params else path

    def _path(self, name: str, path_params: dict[str, Any]) -> str:
        key = (name, tuple(path_params))
        template = self._templates.get(key)
        if template is None:
            placeholders = {param: _PLACEHOLDER.format(param) for param in path_params}
            template = self.root + str(self.request.app.url_path_for(name, **placeholders))
            self._templates[key] = template
        for param, value in path_params.items():
            template = template.replace(_PLACEHOLDER.format(param), str(value))
        return template

    def current(self) -> str:
        """This request's path and query, under the root path however the server passed it."""
        path = self.request.scope["path"]
        if self.root and not path.startswith(self.root):
            path = self.root + path  # Mangum passes the path without API Gateway's stage
        query = self.request.url.query
        return f"{path}?{query}" if query else path

    def static(self, name: str) -> str:
        return self("dashboard_static", {"v": _static_version(name)}, path=name)


def is_htmx(request: Request) -> bool:
    """A request htmx makes to swap part of the page (a history restore wants the whole page)."""
    headers = request.headers
    return headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"


def htmx_target(request: Request) -> str | None:
    return request.headers.get("hx-target") if is_htmx(request) else None


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    urls = Urls(request)
    session = getattr(request.state, "dashboard_session", None)
    full_context = {
        "request": request,
        "url": urls,
        "static": urls.static,
        "csrf_token": session.csrf if session else "",
        "user": session.user if session else None,
        "now": time.time(),
        **context,
    }
    body = environment().get_template(template).render(full_context)
    response = HTMLResponse(body, status_code=status_code, headers=dict(headers or {}))
    # Pages behind sign-in: never stored, and partials never mixed up with pages.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "HX-Request, Cookie"
    return response
