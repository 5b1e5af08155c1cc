"""Cold start of what ships: each function's artefact, in fresh interpreters of the runtime's Python.

Prints figures, asserts nothing. `make bench` packages first (osls package,
as a deploy does), then runs this with .venv's Python:

- every artefact in .serverless/ is unzipped into a clean folder; the packages
  the Lambda runtime provides (boto3, botocore and theirs) go into another,
  compiled like the artefacts, and come after it on sys.path, as in Lambda;
- on a machine of another CPU than the artefacts' (x86_64 here, arm64 in
  Lambda), the packages with compiled code (pydantic_core, wrapt, markupsafe)
  are swapped for this CPU's wheels of the same locked versions, compiled the
  same way; the code and every other file are the artefact's own;
- the baseline is a bare FastAPI + Mangum app with as many routes as the api
  app, packaged the same way: the api artefact's packages, its one module
  compiled to unchecked-hash .pyc;
- each run is a fresh `python3.13 -I -S` (no site-packages but those folders)
  with Lambda's environment, tracing on as deployed (segments go to a UDP
  socket here standing in for the X-Ray daemon), AWS pointed at the embedded
  emulator; it times the handler module's import, then import + the first
  invocation: an API Gateway GET /health for the api and the baseline, a
  stream record of a new task for the publisher, its SQS message for the
  workers, a dead letter for deadLetters;
- runs are interleaved (every target once per round), medians of --runs;
  ratios are to the baseline, which is steadier than milliseconds on a
  shared machine, in wall time and in the process's CPU time (which other
  processes on the machine disturb less).

Then the warm cost of an api call through Mangum, in this process.

    make bench        (or: .venv/bin/python scripts/bench_cold_start.py [--runs 20])
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MANIFEST = ROOT / ".serverless" / "lambda-python.json"
EVENTS = ROOT / "tests" / "events"
# What the Lambda runtime has beside the artefact (custom.lambdaPython.provided and theirs).
PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")
API_KEY = "bench-" + uuid.uuid4().hex
TRACE = "Root=1-5e66d96f-7491f09xmpl79d18acf3d050;Parent=53995c3f42cd8ad8;Sampled=1"
BASELINE = "baseline (FastAPI + Mangum)"

RUN = """
import importlib, json, sys, time
folder, provided, module, attribute, event_file, function = sys.argv[1:7]
sys.path[:0] = [folder]
sys.path.append(provided)
event = json.load(open(event_file))

class Context:
    function_name = function
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:000000000000:function:" + function
    aws_request_id = "bench-request"
    log_group_name = "/aws/lambda/" + function
    log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 30_000

started, started_cpu = time.perf_counter(), time.process_time()
handler = getattr(importlib.import_module(module), attribute)
imported, imported_cpu = time.perf_counter(), time.process_time()
response = handler(event, Context())
invoked, invoked_cpu = time.perf_counter(), time.process_time()
print("BENCH " + json.dumps({
    "import_ms": (imported - started) * 1000,
    "first_ms": (invoked - started) * 1000,
    "import_cpu_ms": (imported_cpu - started_cpu) * 1000,
    "first_cpu_ms": (invoked_cpu - started_cpu) * 1000,
    "response": response,
}))
"""


def runtime_python(manifest: dict[str, Any]) -> str:
    python = manifest["python"]
    if not Path(python).exists():
        raise SystemExit(f"{python} (which packaged the artefacts) is gone: package again (make bench)")
    return python


def compile_unchecked(python: str, folder: Path) -> None:
    subprocess.run(
        [python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(folder)], check=True
    )


def unzip(artifact: Path, folder: Path) -> Path:
    with zipfile.ZipFile(artifact) as archive:
        archive.extractall(folder)
    return folder


def this_cpu() -> str:
    return {"aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), "x86_64")


def _top_level(record: Path) -> set[str]:
    """The top-level files and folders a distribution installed (from its RECORD)."""
    names = {line.split(",", 1)[0].split("/", 1)[0] for line in record.read_text().splitlines() if line}
    return names - {"..", ""}  # scripts installed outside site-packages (../../bin/...) are not in the zip


def runnable_here(python: str, manifest: dict[str, Any], built: dict[str, Any], folder: Path) -> Path:
    """Swap the artefact's compiled packages for this CPU's wheels of the same locked versions."""
    if manifest["architecture"] == this_cpu():
        return folder
    provided = [argument for name in manifest["provided"] for argument in ("--provided", name)]
    site = Path(
        subprocess.run(
            [python, str(ROOT / "scripts" / "lambda_package.py"), "--site", str(ROOT / built["lock"]),
             "--arch", this_cpu(), *provided],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    for wheel in folder.glob("*.dist-info/WHEEL"):
        if "Root-Is-Purelib: true" in wheel.read_text():
            continue
        for name in _top_level(wheel.with_name("RECORD")):
            target = folder / name
            shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
        # This CPU's wheel names its own files (_cffi_backend.cpython-313-x86_64-linux-gnu.so).
        for name in _top_level(site / wheel.parent.name / "RECORD"):
            source, target = site / name, folder / name
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            else:
                shutil.copy(source, target)
    return folder


def provided_packages(python: str, folder: Path) -> Path:
    """boto3 and what comes with it in Lambda, from .venv (pure Python), compiled by the runtime's Python."""
    import boto3

    site = Path(boto3.__file__).resolve().parents[1]
    for name in PROVIDED:
        source = site / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            folder.mkdir(exist_ok=True)
            shutil.copy(source, folder / name)
    compile_unchecked(python, folder)
    return folder


def api_route_count() -> int:
    """Routes of the app the api's first request builds (the dashboard's are built on its first page)."""
    from app.api.routes import health_router, router

    return len(health_router.routes) + len(router.routes)


def baseline(python: str, api_folder: Path, folder: Path, routes: int) -> Path:
    """The api artefact's packages and a bare app of ``routes`` routes, compiled the same way."""
    shutil.copytree(api_folder, folder, ignore=shutil.ignore_patterns("app", "templates", "static"))
    route = "@app.get('/route{0}')\nasync def route{0}():\n    return {{'route': {0}}}\n"
    handlers = "\n".join(route.format(i) for i in range(routes - 1))
    (folder / "baseline_app.py").write_text(
        "from fastapi import FastAPI\nfrom mangum import Mangum\n\napp = FastAPI()\n\n\n"
        "@app.get('/health')\nasync def health():\n    return {'status': 'ok'}\n\n\n"
        f"{handlers}\n\nhandler = Mangum(app, lifespan='off')\n"
    )
    compile_unchecked(python, folder / "baseline_app.py")
    return folder


class LocalAws:
    """The local AWS emulator with serverless.yml's resources, and events of real tasks in it."""

    def __init__(self) -> None:
        from app.adapters.task_store import TaskStore
        from app.local import sls_config
        from app.local.emulator import start_emulator
        from app.local.provision import provision
        from app.local.runtime import emulator_clients, isolate_from_aws

        self.emulator = start_emulator()
        self.endpoint = self.emulator.endpoint
        self.topology = sls_config.load(stage="bench")
        isolate_from_aws(self.endpoint, self.topology.region)
        self.clients = emulator_clients(self.endpoint, self.topology.region)
        self.resources = provision(self.topology, self.clients)
        self.store = TaskStore(self.resources.table_name, self.clients["dynamodb"])
        (self.topic_arn,) = self.resources.topic_arns.values()

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": self.topology.region,
            "AWS_REGION": self.topology.region,
            "TABLE_NAME": self.resources.table_name,
            "TOPIC_ARN": self.topic_arn,
        }

    def stream_record(self, task_type: str, data: dict[str, Any]) -> dict[str, Any]:
        """A new task, as its INSERT reaches the publisher."""
        from app.domain.task import new_task
        from app.local.lambda_events import dynamodb_stream_record

        task = new_task(task_type, data, int(time.time()) + 86_400, time.time())
        self.store.add(task)
        key = {"pk": {"S": f"TASK#{task.id}"}, "sk": {"S": "TASK"}}
        item = self.clients["dynamodb"].get_item(TableName=self.resources.table_name, Key=key)["Item"]
        change = {"Keys": key, "NewImage": item, "SequenceNumber": str(time.time_ns()), "SizeBytes": 200}
        record = {"eventID": uuid.uuid4().hex, "eventName": "INSERT", "dynamodb": change}
        return dynamodb_stream_record(record, self.resources.stream_arn, self.topology.region)

    def delivery(self, task_type: str, data: dict[str, Any], queue: str) -> dict[str, Any]:
        """A new task published to SNS and received from its queue, as Lambda delivers it from ``queue``."""
        from app.local.lambda_events import sqs_record
        from workers.publisher import publish_records

        publish_records([self.stream_record(task_type, data)], self.topic_arn, self.clients["sns"])
        url = self.resources.queue_urls[f"{task_type.title()}Queue"]
        sqs = self.clients["sqs"]
        (message,) = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=5, AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )["Messages"]  # fmt: skip
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return {"Records": [sqs_record(message, self.resources.queue_arns[queue], self.topology.region)]}


def health_request() -> dict[str, Any]:
    request = json.loads((EVENTS / "apigw_rest_event.json").read_text())
    request.update(httpMethod="GET", path="/health", resource="/{proxy+}", body=None, isBase64Encoded=False)
    request["pathParameters"] = {"proxy": "health"}
    request["requestContext"].update(httpMethod="GET", path="/dev/health", resourcePath="/{proxy+}")
    return request


@dataclass(frozen=True)
class Target:
    folder: Path
    handler: str
    first_event: Callable[[], dict[str, Any]]
    env: dict[str, str] = field(default_factory=dict)


def targets(folders: dict[str, Path], emulator: LocalAws) -> dict[str, Target]:
    """What to start cold: each artefact's handler and a fresh first event for it; the baseline."""
    task1 = {"duration_seconds": 0}
    return {
        BASELINE: Target(folders[BASELINE], "baseline_app.handler", health_request),
        "api": Target(folders["api"], "app.main.handler", health_request),
        "api, tracing off": Target(
            folders["api"], "app.main.handler", health_request, {"POWERTOOLS_TRACE_DISABLED": "true"}
        ),
        "publisher": Target(
            folders["publisher"], "workers.publisher.handler",
            lambda: {"Records": [emulator.stream_record("TASK1", task1)]},
        ),
        "task1": Target(
            folders["task1"],
            "workers.tasks.task1.handler",
            lambda: emulator.delivery("TASK1", task1, "Task1Queue"),
        ),
        "task2": Target(
            folders["task2"], "workers.tasks.task2.handler",
            lambda: emulator.delivery("TASK2", {"text": "one two three"}, "Task2Queue"),
        ),
        "deadLetters": Target(
            folders["deadLetters"], "workers.dead_letters.handler",
            lambda: emulator.delivery("TASK1", task1, "Task1DeadLetterQueue"),
        ),
    }  # fmt: skip


def succeeded(response: Any) -> bool:
    """200 from an HTTP handler; no failed record from a batch one."""
    return isinstance(response, dict) and (
        response.get("statusCode") == 200 or response == {"batchItemFailures": []}
    )


def cold(python: str, target: Target, provided: Path, work: Path, env: dict[str, str]) -> dict:
    module, attribute = target.handler.rsplit(".", 1)
    event_file = work / "event.json"
    event_file.write_text(json.dumps(target.first_event()))
    function = module.rsplit(".", 1)[-1]
    arguments = [str(target.folder), str(provided), module, attribute, str(event_file), function]
    env = {**env, **target.env, "AWS_LAMBDA_FUNCTION_NAME": function}
    command = [python, "-I", "-S", "-c", RUN, *arguments]
    result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=120)
    lines = [line for line in result.stdout.splitlines() if line.startswith("BENCH ")]
    if result.returncode != 0 or not lines:
        raise SystemExit(f"{target.handler} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    figures = json.loads(lines[-1].removeprefix("BENCH "))
    if not succeeded(figures["response"]):
        raise SystemExit(f"{target.handler}'s first invocation did not succeed: {figures['response']}")
    return figures


def deployed_secrets() -> dict[str, str]:
    """What a deployed api reads from SSM: a stage other than local refuses the local defaults
    (its /health answers 503 not_configured), so the bench gives it values of its own."""
    import secrets

    from app.adapters.passwords import hash_password

    return {
        "DASHBOARD_USERS": f"bench:{hash_password(secrets.token_urlsafe(16))}",
        "SESSION_SECRET": secrets.token_urlsafe(32),
        "PAGE_TOKEN_SECRET": secrets.token_urlsafe(32),
    }


def lambda_environment(daemon_port: int) -> dict[str, str]:
    return {
        **deployed_secrets(),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": "/var/task",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon_port}",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "_X_AMZN_TRACE_ID": TRACE,
        "STAGE": "bench",
        "ROOT_PATH": "/dev",
        "API_KEYS": API_KEY,
        "POWERTOOLS_SERVICE_NAME": "async-app",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_METRICS_NAMESPACE": "AsyncApp",
    }


def warm_us(calls: int) -> float:
    from mangum import Mangum

    from app.main import create_app
    from app.settings import Settings

    handler = Mangum(create_app(Settings(local_mode=True)), lifespan="off")  # its local defaults are ready
    event = health_request()
    for _ in range(50):
        handler(event, None)
    started = time.perf_counter()
    for _ in range(calls):
        handler(event, None)
    return (time.perf_counter() - started) / calls * 1e6


def machine() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or platform.machine(),
    ) if Path("/proc/cpuinfo").exists() else platform.machine()  # fmt: skip
    load = f", load {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return f"{model}, {os.cpu_count()} cores{load}, {platform.system()} {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    if not MANIFEST.exists():
        raise SystemExit(f"{MANIFEST.relative_to(ROOT)} is missing: package first (make bench does)")
    manifest = json.loads(MANIFEST.read_text())
    python = runtime_python(manifest)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # this process makes the events: its logs are noise
    emulator = LocalAws()
    with tempfile.TemporaryDirectory() as tmp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        work = Path(tmp)
        folders = {
            name: runnable_here(python, manifest, built, unzip(ROOT / built["artifact"], work / name))
            for name, built in manifest["functions"].items()
        }
        routes = api_route_count()
        folders[BASELINE] = baseline(python, folders["api"], work / "baseline", routes)
        provided = provided_packages(python, work / "provided")
        env = {**lambda_environment(daemon.getsockname()[1]), **emulator.environment()}
        chosen = targets(folders, emulator)
        timings: dict[str, list[dict]] = {name: [] for name in chosen}
        for _ in range(args.runs):
            for name, target in chosen.items():
                timings[name].append(cold(python, target, provided, work, env))
        emulator.emulator.stop()

    print(f"Machine: {machine()}")
    swapped = "" if manifest["architecture"] == this_cpu() else f" (their compiled packages for {this_cpu()})"
    print(f"Python {manifest['python_version']} ({python}), {manifest['architecture']} artefacts{swapped}")
    print(f"Cold start from the artefacts, median of {args.runs} fresh interpreters, interleaved;")
    print(f"ratio to a bare FastAPI + Mangum app of {routes} routes packaged the same way")
    columns = f"{'ratio':>6} {'cpu':>6}"
    print(f"  {'':28} {'import':>9} {columns}   {'+ first call':>12} {columns}   artefact")
    base = {key: statistics.median(run[key] for run in timings[BASELINE]) for key in timings[BASELINE][0]
            if key.endswith("_ms")}  # fmt: skip
    for name, runs in timings.items():
        median = {key: statistics.median(run[key] for run in runs) for key in base}
        ratio = {key: median[key] / base[key] for key in base}
        built = manifest["functions"].get(name)
        size = f"{built['zip_bytes'] / 1e6:.1f} MB zipped" if built else "the api's"
        print(
            f"  {name:<28} {median['import_ms']:6.1f} ms "
            f"{ratio['import_ms']:5.2f}x {ratio['import_cpu_ms']:5.2f}x   "
            f"{median['first_ms']:9.1f} ms {ratio['first_ms']:5.2f}x {ratio['first_cpu_ms']:5.2f}x   {size}"
        )
    warm = warm_us(args.calls)
    print(f"Warm GET /health through Mangum (.venv, in-process, {args.calls} calls): {warm:.0f} us per call")


if __name__ == "__main__":
    main()
