"""Rendering: the Jinja2 environment (built on first use, not at import) and its helpers."""

from __future__ import annotations

import functools
import hashlib
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse

from app.dashboard import fragments, timing
from app.dashboard.charts import WIDTH as CHART_WIDTH
from app.dashboard.charts import timeline_bars
from app.dashboard.rows import Rows
from app.domain.task import TaskStatus
from app.services.dashboard import NEW_ROWS_PER_TICK
from app.task_registry import names as task_type_names

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
    f = fragments
    env.filters.update(
        ago=f.ago,
        utc=f.utc,
        iso=f.iso,
        utc_ms=f.utc_ms,
        iso_ms=f.iso_ms,
        duration=f.duration,
        short_id=f.short_id,
        pretty_json=f.pretty_json,
        thousands=f.thousands,
        span=timing.span,
        duration_seconds=timing.duration_seconds,
        run_seconds=timing.run_seconds,
        waiting_seconds=timing.waiting_seconds,
    )
    from app.dashboard.charts import FAILURES, THROUGHPUT, rate_chart
    from app.dashboard.forms import RANGE_LABELS, RETRY_STATE_LABELS
    from app.services.stats import latency_text

    env.globals.update(
        task_types=task_type_names(),
        statuses=[s.value for s in TaskStatus],
        htmx=HTMX_FILE,
        timeline_bars=timeline_bars,
        rate_chart=rate_chart,
        throughput=THROUGHPUT,
        failures=FAILURES,
        latency_text=latency_text,
        chart_width=CHART_WIDTH,
        when=f.when,
        exact=f.exact,
        badge=f.badge,
        sorts=timing.SORTS,
        range_labels=RANGE_LABELS,
        retry_states=RETRY_STATE_LABELS,
        new_per_tick=NEW_ROWS_PER_TICK,
    )
    return env


# Stands for a path parameter in a cached route path; no real value contains it.
_PLACEHOLDER = "\x1f{}\x1f"
# App -> (root path, route name, path parameter names) -> the route's path with placeholders.
_ROUTE_PATHS: weakref.WeakKeyDictionary[Any, dict[tuple[str, str, tuple[str, ...]], str]] = (
    weakref.WeakKeyDictionary()
)


@functools.cache
def _static_version(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


class Urls:
    """Paths for templates and redirects, always under the request's root path (the API stage).

    Each route's path is looked up once per app (the router walk is the
    costly part, and routes never change once built); its path parameters are
    then filled in by replacing placeholders, so a 50-row page does not walk
    the router per row, nor per page.
    """

    def __init__(self, request: Request):
        self.request = request
        self.root = request.scope.get("root_path", "")
        self._templates = _ROUTE_PATHS.setdefault(request.app, {})

    def __call__(self, name: str, query: Mapping[str, Any] | None = None, **path_params: Any) -> str:
        path = self._path(name, path_params)
        if not query:
            return path
        params = {key: value for key, value in query.items() if value not in (None, "")}
        return f"{path}?{urlencode(params, doseq=True)}" if params else path

    def _path(self, name: str, path_params: dict[str, Any]) -> str:
        key = (self.root, name, tuple(path_params))
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
    now = time.time()
    rows = Rows(urls, now)
    full_context = {
        "request": request,
        "url": urls,
        "static": urls.static,
        "csrf_token": session.csrf if session else "",
        "user": session.user if session else None,
        "now": now,
        "task_row": rows,
        "retry_link": rows.retry_link,
        "cancel_link": rows.cancel_link,
        **context,
    }
    body = environment().get_template(template).render(full_context)
    response = HTMLResponse(body, status_code=status_code, headers=dict(headers or {}))
    # Pages behind sign-in: never stored, and partials never mixed up with pages.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "HX-Request, Cookie"
    return response
