"""Cold start and warm cost of the Lambda handlers: prints figures, asserts nothing.

Each cold import runs in a fresh interpreter (median of N). Figures are also
given as ratios to importing FastAPI alone, which is steadier on a noisy machine
than the milliseconds themselves.

    .venv/bin/python scripts/bench_cold_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEALTH_EVENT = {
    "resource": "/health",
    "path": "/health",
    "httpMethod": "GET",
    "headers": {},
    "multiValueHeaders": {},
    "queryStringParameters": None,
    "multiValueQueryStringParameters": None,
    "requestContext": {
        "resourcePath": "/health",
        "httpMethod": "GET",
        "path": "/dev/health",
        "stage": "dev",
        "identity": {"sourceIp": "127.0.0.1"},
    },
    "body": None,
    "isBase64Encoded": False,
}
STATEMENTS = {
    "fastapi (baseline)": "import fastapi",
    "api: import app.main": "import app.main",
    "api: import + first request": (
        f"import app.main, json; app.main.handler(json.loads({json.dumps(HEALTH_EVENT)!r}), None)"
    ),
    "publisher: import": "import workers.publisher",
    "worker: import workers.task1": "import workers.task1",
}


def cold_ms(statement: str, runs: int) -> float:
    env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true"}
    timings = []
    for _ in range(runs):
        code = f"import time; t = time.perf_counter(); {statement}; print((time.perf_counter() - t) * 1000)"
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise SystemExit(f"{statement!r} failed:\n{result.stderr}")
        timings.append(float(result.stdout.strip().splitlines()[-1]))
    return statistics.median(timings)


def warm_us(calls: int) -> float:
    sys.path.insert(0, str(ROOT))
    from mangum import Mangum

    from app.main import create_app
    from app.settings import Settings

    handler = Mangum(create_app(Settings()), lifespan="off")
    for _ in range(50):
        handler(HEALTH_EVENT, None)
    started = time.perf_counter()
    for _ in range(calls):
        handler(HEALTH_EVENT, None)
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    baseline = None
    print(f"cold start, median of {args.runs} fresh interpreters")
    for name, statement in STATEMENTS.items():
        ms = cold_ms(statement, args.runs)
        baseline = baseline or ms
        print(f"  {name:<28} {ms:8.1f} ms   x{ms / baseline:4.2f} of fastapi")
    print(f"warm GET /health through Mangum, {args.calls} calls: {warm_us(args.calls):.0f} us per call")


if __name__ == "__main__":
    main()
