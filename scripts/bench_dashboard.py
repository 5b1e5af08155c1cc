"""Server CPU of the dashboard's task list: a 50-row page, with the store stubbed.

    python scripts/bench_dashboard.py             # 300 requests per figure (default)
    python scripts/bench_dashboard.py --requests 1000

Each request goes through the whole app (middleware, sign-in check, routing,
dependencies, the route, rendering) as an ASGI call, the way Mangum calls it
in AWS (blocking calls inline) and the way uvicorn does under make run (store
calls in a worker thread), with stubs in place of DynamoDB: so the figures
are the app's own CPU, not the network's or the store's. CPU time is the process's
(every thread: sync dependencies run in a thread pool), per request; the
figures printed are medians and 90th percentiles, interleaved with a bare
FastAPI route that returns a page of the same size, as the floor.

The goal (issue 13): the 50-row page in at most 2 ms of server CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROWS = 50
GOAL_MS = 2.0


def demo_tasks(count: int) -> list[Any]:
    """A page as an operator sees it: mostly finished tasks, some failed, some running, retries."""
    from app.domain.task import TaskStatus, new_task

    now = time.time()
    tasks = []
    for n in range(count):
        task = new_task(
            "TASK1" if n % 3 else "TASK2", {"n": n, "text": "hello world"}, int(now) + 86400, now - n
        )
        if n % 5 == 0:
            task = task.moved_to(
                TaskStatus.IN_PROGRESS, "attempt 1 started", now - n + 0.2, attempt=1, progress=40
            )
        elif n % 7 == 0:
            task = task.moved_to(TaskStatus.FAILED, "upstream returned 503", now - n + 1, attempt=1)
        elif n % 11 != 0:
            task = task.moved_to(TaskStatus.COMPLETED, "done in 1 s", now - n + 1, attempt=1)
        tasks.append(task)
    return tasks


class StubStore:
    """Answers the list with one page of tasks; nothing else is asked of it by the list page."""

    def __init__(self, tasks: list[Any]):
        from app.domain.listing import TaskPage

        self.page = TaskPage(tasks=tasks, next_token=None)

    def list(self, query: Any, page_token: str | None = None) -> Any:
        return self.page


class StubCounter:
    def by_status(self, task_type: str | None = None) -> list[Any]:
        from app.domain.task import TaskStatus
        from app.services.dashboard import StatusCount

        return [StatusCount(status, 1000 + n) for n, status in enumerate(TaskStatus)]

    def tally(self, task_type: str | None = None, task_ids: Any = ()) -> Any:
        """The counts as the aggregates give them (one BatchGetItem in AWS), with no task asked for."""
        from app.services.dashboard import Tally

        return Tally(self.by_status(task_type), created=7000, tasks=dict.fromkeys(task_ids))


class StubSignInRecords:
    def session_is_open(self, key: str, user: str, now: float) -> bool:
        return True


def dashboard_app() -> tuple[Any, dict[str, str]]:
    from app.dashboard import session as sessions
    from app.main import create_app
    from app.settings import Settings

    settings = Settings(api_keys="bench-key", local_mode=True)  # the local session key signs the cookie
    app = create_app(settings, store=StubStore(demo_tasks(ROWS)), counter=StubCounter())  # type: ignore[arg-type]
    app.state.sign_in_records = StubSignInRecords()
    cookie = sessions._serializer(settings).dumps({"c": "csrf-token", "u": "admin", "s": "bench-session"})
    return app, {"cookie": f"{sessions.COOKIE_NAME}={cookie}"}


def bare_app(body: bytes) -> Any:
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    app = FastAPI()

    @app.get("/dashboard")
    async def page() -> HTMLResponse:
        return HTMLResponse(body)

    return app


async def call(app: Any, path: str, headers: dict[str, str], lambda_: bool = False) -> tuple[int, bytes]:
    """One request, as an ASGI server makes it (or Mangum, with ``lambda_``); the status and the body."""
    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    if lambda_:
        # What Mangum adds: the app then runs blocking calls inline (one request per invocation).
        scope["aws.event"] = {}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = sent[0]["status"]
    return status, b"".join(message.get("body", b"") for message in sent[1:])


async def cpu_ms(app: Any, path: str, headers: dict[str, str], lambda_: bool = False) -> float:
    start = time.process_time()
    status, _ = await call(app, path, headers, lambda_)
    elapsed = (time.process_time() - start) * 1000
    assert status == 200, status
    return elapsed


def render_ms(app: Any) -> list[float]:
    """The template alone: what rendering 50 rows costs inside the request."""
    from starlette.requests import Request

    from app.dashboard import views
    from app.dashboard.forms import ListFilters
    from app.dashboard.routes import _list_context
    from app.services import dashboard

    dashboard_app_ = app.middleware_stack  # built by the first request
    assert dashboard_app_ is not None
    inner = next(m for m in iter_middleware(app) if type(m).__name__ == "DashboardMiddleware").dashboard
    scope = {
        "type": "http",
        "path": "/dashboard",
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "app": inner,
    }
    request = Request(scope)
    overview = dashboard.Overview(StubStore(demo_tasks(ROWS)).page, StubCounter().tally())
    context = _list_context(ListFilters(), overview, None)
    times = []
    for _ in range(100):
        start = time.process_time()
        views.render(request, "pages/tasks.html", context)
        times.append((time.process_time() - start) * 1000)
    return times


def iter_middleware(app: Any):
    layer = app.middleware_stack
    while layer is not None:
        yield layer
        layer = getattr(layer, "app", None)


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[int(len(ordered) * 0.9) - 1]
    return f"median {statistics.median(times):.2f} ms, p90 {p90:.2f} ms"


async def main(requests: int) -> int:
    import logging

    logging.disable(logging.INFO)  # the access and audit lines are not what is measured
    app, headers = dashboard_app()
    path = "/dashboard?limit=50"
    status, body = await call(app, path, headers)
    assert status == 200 and body.count(b'class="task-row') == ROWS, "the page did not render 50 rows"
    floor = bare_app(body)
    for _ in range(30):  # warm both: imports, template compilation, caches
        await cpu_ms(app, path, headers, lambda_=True)
        await cpu_ms(floor, "/dashboard", {})
    page, local, bare = [], [], []
    for _ in range(requests):  # interleaved, so all three see the same machine
        page.append(await cpu_ms(app, path, headers, lambda_=True))
        local.append(await cpu_ms(app, path, headers))
        bare.append(await cpu_ms(floor, "/dashboard", {}))
    render = render_ms(app)
    print(
        f"dashboard list page, {ROWS} rows, store stubbed, {requests} requests ({len(body):,} bytes of HTML)"
    )
    print(f"  whole request, as in AWS (Mangum):     {summary(page)}  (goal: at most {GOAL_MS} ms)")
    print(f"  whole request, as make run (uvicorn):  {summary(local)}  (store calls in a worker thread)")
    print(f"  render alone:                          {summary(render)}")
    print(f"  bare FastAPI route, the same page:     {summary(bare)}")
    print(f"  page / bare: {statistics.median(page) / statistics.median(bare):.1f}x")
    within = statistics.median(page) <= GOAL_MS
    print("  within the goal" if within else "  OVER THE GOAL")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300)
    sys.exit(asyncio.run(main(parser.parse_args().requests)))
