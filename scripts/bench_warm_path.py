"""The api's warm GET /tasks/{id}, through Mangum as in Lambda, against a bare FastAPI app doing the same.

    python scripts/bench_warm_path.py             # 15 rounds of 300 calls per target (default)
    python scripts/bench_warm_path.py --rounds 30 --calls 500

Every target answers the same API Gateway REST event (tests/events/, a GET of
one task under the stage /dev) with the same JSON body, from the same store
call, `tasks.get_task(store, task_id)`, on a stub store whose `get` returns
one fixed task (no AWS, no network):

- api: the Lambda handler's whole path: `observability.lambda_handler` (the
  Lambda context in every log line) around Mangum (as app.main builds it)
  around the real app: its middlewares (root path, compression, security
  headers, body size limit, dashboard routing, API key), its routes and
  dependencies;
- bare `async def`: FastAPI + Mangum (lifespan off) and one `async def`
  route calling the store on the event loop, as the api does under Mangum;
- bare `def`: the same with a plain `def` route, which FastAPI runs in a
  worker thread: what a FastAPI app with a blocking store call (boto3) is
  by default, and what the issue measured as the `def` floor.

The goal (issue 13) is the api within 1.2x of the bare app. The baseline
that holds the api to it is the `async def` one: the stub's call is
instant and blocks nothing, and in Lambda one invocation is one request,
so the api makes the real (blocking) call inline too; a `def` baseline
would credit the api with a thread hop it saves. Both are printed.

Rounds are interleaved (every target, then again), each a batch of calls
timed in wall and CPU time; the figures are medians over rounds, ratios to
the baselines. Figures, no assertions; the script stops if the bodies
differ, since then the comparison would mean nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

API_KEY = "bench-key"
GOAL = 1.2


class StubStore:
    """Returns one fixed task to every get: the store call without AWS."""

    def __init__(self) -> None:
        from app.domain.task import TaskStatus, new_task

        now = time.time()
        task = new_task("TASK1", {"foo": "bar", "n": 42}, int(now) + 86_400, now)
        self.task = task.moved_to(
            TaskStatus.COMPLETED, "done in 1 s", now + 1, attempt=1, result={"ok": True}
        )

    def get(self, task_id: str) -> Any:
        return self.task


class Context:
    function_name = "api"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:000000000000:function:api"
    aws_request_id = "bench-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def get_event(task_id: str) -> dict[str, Any]:
    """API Gateway's REST event (tests/events) turned into GET /dev/tasks/{task_id}."""
    event = json.loads((ROOT / "tests" / "events" / "apigw_rest_event.json").read_text())
    path = f"/tasks/{task_id}"
    event.update(httpMethod="GET", path=path, resource="/{proxy+}", body=None, isBase64Encoded=False)
    event["pathParameters"] = {"proxy": path.lstrip("/")}
    event["requestContext"].update(httpMethod="GET", path="/dev" + path, resourcePath="/{proxy+}")
    for headers in (event["headers"], event["multiValueHeaders"]):
        headers.pop("content-type", None)
    event["headers"]["x-api-key"] = API_KEY
    event["multiValueHeaders"]["x-api-key"] = [API_KEY]
    return event


def api_handler(store: StubStore) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    from app import observability
    from app.main import create_app, lambda_adapter
    from app.settings import Settings

    app = create_app(Settings(api_keys=API_KEY, root_path="/dev", stage="bench"), store=store)  # type: ignore[arg-type]
    return observability.lambda_handler(lambda_adapter(app))


def bare_handler(store: StubStore, asynchronous: bool) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    from fastapi import FastAPI
    from mangum import Mangum

    from app.services import tasks

    app = FastAPI()
    if asynchronous:

        @app.get("/tasks/{task_id}")
        async def get_task(task_id: str) -> dict[str, object]:
            return tasks.get_task(store, task_id).to_public()  # type: ignore[arg-type]

    else:

        @app.get("/tasks/{task_id}")
        def get_task(task_id: str) -> dict[str, object]:  # type: ignore[no-redef]
            return tasks.get_task(store, task_id).to_public()  # type: ignore[arg-type]

    return Mangum(app, lifespan="off")


def batch(
    handler: Callable[..., Any], event: dict[str, Any], context: Any, calls: int
) -> tuple[float, float]:
    """Microseconds per call, wall and CPU (every thread of the process), over ``calls`` calls."""
    started, started_cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        handler(event, context)
    return (
        (time.perf_counter() - started) / calls * 1e6,
        (time.process_time() - started_cpu) / calls * 1e6,
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    logging.disable(logging.INFO)

    store = StubStore()
    event = get_event(store.task.id)
    targets = {
        "api (Lambda handler)": (api_handler(store), Context()),
        "bare FastAPI, async def": (bare_handler(store, asynchronous=True), None),
        "bare FastAPI, def": (bare_handler(store, asynchronous=False), None),
    }
    bodies = {}
    for name, (handler, context) in targets.items():
        response = handler(event, context)
        if response["statusCode"] != 200:
            raise SystemExit(f"{name} answered {response['statusCode']}: {response['body']}")
        bodies[name] = json.loads(response["body"])
        batch(handler, event, context, 200)  # warm: imports, caches, the thread pool
    if len({json.dumps(body, sort_keys=True) for body in bodies.values()}) != 1:
        raise SystemExit(f"the targets' bodies differ: {bodies}")

    wall: dict[str, list[float]] = {name: [] for name in targets}
    cpu: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(args.rounds):
        for name, (handler, context) in targets.items():
            per_call, per_call_cpu = batch(handler, event, context, args.calls)
            wall[name].append(per_call)
            cpu[name].append(per_call_cpu)

    median = {name: statistics.median(times) for name, times in wall.items()}
    median_cpu = {name: statistics.median(times) for name, times in cpu.items()}
    floor, threaded = "bare FastAPI, async def", "bare FastAPI, def"
    print(
        f"Warm GET /tasks/{{id}} through Mangum (API Gateway REST event, store stubbed), "
        f"medians of {args.rounds} interleaved rounds of {args.calls} calls"
    )
    print(f"  {'':26} {'per call':>9} {'cpu':>8} {'vs async def':>13} {'vs def':>7}")
    for name in targets:
        print(
            f"  {name:<26} {median[name]:6.0f} us {median_cpu[name]:5.0f} us "
            f"{median[name] / median[floor]:12.2f}x {median[name] / median[threaded]:6.2f}x"
        )
    ratio = median["api (Lambda handler)"] / median[floor]
    verdict = "within" if ratio <= GOAL else "OVER"
    print(f"  api / bare async def: {ratio:.2f}x, {verdict} the goal of {GOAL}x (the baseline: see --help)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
