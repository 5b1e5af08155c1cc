"""The whole service on one machine, with no AWS account.

An embedded AWS emulator (moto server, loopback only, in a process of its
own: app/local/emulator.py) provisioned from serverless.yml, the pollers that
do the Lambda service's work, and the same handler functions AWS runs.
``python -m app.local`` adds uvicorn serving the api.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from app.local import sls_config
from app.local.console import TIMELINE_PRINTER
from app.local.emulator import DEFAULT_TTL_SWEEP_SECONDS, Emulator, start_emulator
from app.local.pollers import (
    Invocation,
    PollerContext,
    Reporter,
    SchedulePoller,
    SqsPoller,
    StreamPoller,
    WriteSignal,
)
from app.local.provision import LocalResources, provision

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
}
# Variables that could point boto3 at a real account or endpoint.
FOREIGN_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
)


def print_invocation(invocation: Invocation) -> None:
    """Print an invocation that failed (the hops themselves print from the timeline)."""
    if not invocation.failed and not invocation.error:
        return
    outcome = f"{invocation.failed} failed"
    if invocation.timed_out:
        outcome = f"timed out: {invocation.error}"
    elif invocation.error:
        outcome = f"error: {invocation.error}"
    tasks = ", ".join(task_id[:8] for task_id in invocation.task_ids)
    stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]
    print(
        f"{stamp}  {invocation.function:<11} <- {invocation.source:<28} "
        f"[{tasks}] {outcome} ({invocation.elapsed_ms:.0f} ms)",
        flush=True,
    )


def isolate_from_aws(endpoint: str, region: str) -> None:
    """Point every boto3 client of this process at the emulator, with dummy credentials."""
    for name in FOREIGN_AWS_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(DUMMY_CREDENTIALS)
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ["AWS_DEFAULT_REGION"] = region
    os.environ["AWS_REGION"] = region
    # No shared config or credentials file can add a profile or a real key.
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    # Tracing and metrics have no daemon or agent here.
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


def emulator_clients(endpoint: str, region: str) -> dict[str, Any]:
    import boto3

    return {
        name: boto3.client(name, endpoint_url=endpoint, region_name=region)
        for name in ("dynamodb", "dynamodbstreams", "sns", "sqs")
    }


# What the handlers import on first use. In Lambda one invocation runs at a
# time; here the pollers and the api run on threads, and two threads importing
# the same package for the first time can see it half initialised.
LAZY_IMPORTS = (
    "aws_lambda_powertools",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.parameters",
    "mangum",
)


def preload_lazy_imports() -> None:
    """Import, on one thread, what the handlers would otherwise import lazily on many."""
    for module in LAZY_IMPORTS:
        importlib.import_module(module)


# Pollers of a queue whose event source sets no maximumConcurrency.
DEFAULT_QUEUE_CONCURRENCY = 2
DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


def signal_table_writes(writes: WriteSignal) -> None:
    """Wake the stream pollers whenever a client of this process has written to DynamoDB.

    Registered on boto3's default session, so every client the handlers create
    afterwards inherits it; in AWS the Lambda service polls the stream instead.
    """
    import boto3

    def after_call(model: Any, **_: Any) -> None:
        if model.name in DYNAMODB_WRITES:
            writes.notify()

    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("after-call.dynamodb", after_call)


class LocalRuntime:
    """Emulator + resources + pollers; a context manager that cleans up after itself."""

    def __init__(
        self,
        serverless_path: str | Path = sls_config.DEFAULT_PATH,
        *,
        data_dir: str | Path | None = None,
        visibility_timeout_override: int | None = None,
        worker_concurrency: int | None = None,
        print_hops: bool = True,
        ttl_sweep_seconds: float = DEFAULT_TTL_SWEEP_SECONDS,
        schedule_seconds_override: float | None = None,
        report: Reporter = print_invocation,
    ):
        self.topology = sls_config.load(serverless_path)
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.visibility_timeout_override = visibility_timeout_override
        self.worker_concurrency = worker_concurrency
        self.print_hops = print_hops
        self.ttl_sweep_seconds = ttl_sweep_seconds
        self.schedule_seconds_override = schedule_seconds_override
        self.report = report
        self.stop_event = threading.Event()
        self.writes = WriteSignal()
        self.threads: list[threading.Thread] = []
        self.emulator: Emulator | None = None
        self.endpoint = ""
        self.resources: LocalResources | None = None
        self.clients: dict[str, Any] = {}

    def start(self) -> LocalRuntime:
        started_at = int(time.time())
        self.emulator = start_emulator(self.data_dir, ttl_sweep_seconds=self.ttl_sweep_seconds)
        self.endpoint = self.emulator.endpoint
        isolate_from_aws(self.endpoint, self.topology.region)
        self.clients = emulator_clients(self.endpoint, self.topology.region)
        self.resources = provision(self.topology, self.clients, self.visibility_timeout_override)
        self._configure_handlers()
        signal_table_writes(self.writes)
        preload_lazy_imports()
        self._start_pollers()
        if self.data_dir is not None:
            self._resume_unfinished(started_at)
        return self

    def _resume_unfinished(self, started_at: int) -> None:
        """On a thread of its own: the api answers meanwhile, and the tasks run as soon as each is sent."""
        from app.adapters.task_store import TaskStore
        from app.local import restart_recovery
        from workers.publisher import publish_tasks

        assert self.resources is not None
        store = TaskStore(self.resources.table_name, self.clients["dynamodb"])
        (topic_arn,) = self.resources.topic_arns.values()
        sns = self.clients["sns"]

        def publish(tasks: list[Any]) -> list[Any]:
            return publish_tasks(tasks, topic_arn, sns, sent_by=restart_recovery.SOURCE)[0]

        def run() -> None:
            try:
                restart_recovery.resume_unfinished(store, publish, started_at)
            except Exception:  # the reconciler still finds them, later
                logging.getLogger(__name__).exception("resuming the previous run's tasks failed")

        thread = threading.Thread(target=run, name="restart-recovery", daemon=True)
        thread.start()
        self.threads.append(thread)

    def _configure_handlers(self) -> None:
        from app.adapters import aws
        from app.settings import get_settings

        assert self.resources is not None
        os.environ["STAGE"] = sls_config.LOCAL_STAGE
        # What is local is this runtime's choice (app/settings.py, local_mode), not the stage's name.
        os.environ["LOCAL_MODE"] = "true"
        os.environ["TABLE_NAME"] = self.resources.table_name
        (topic_arn,) = self.resources.topic_arns.values()
        os.environ["TOPIC_ARN"] = topic_arn
        # Environment variables that name a queue (!Ref SomeQueue: its URL), or are made
        # of the account's pseudo parameters (!Sub), as AWS resolves them.
        for environment in self.topology.function_environment.values():
            for name, value in environment.items():
                if isinstance(value, dict) and value.get("Ref") in self.resources.queue_urls:
                    os.environ[name] = self.resources.queue_urls[value["Ref"]]
                elif isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
                    os.environ[name] = sls_config.substitute_pseudo_parameters(
                        value["Fn::Sub"], self.topology.region
                    )
        get_settings.cache_clear()
        aws.reset_clients()

    def _start_pollers(self) -> None:
        assert self.resources is not None
        resources = self.resources
        context = PollerContext(self.clients, self.topology.region, self.stop_event, self.report, self.writes)
        pollers: list[Any] = []
        stream_functions = [*self.topology.stream_functions, *([TIMELINE_PRINTER] if self.print_hops else [])]
        for function in stream_functions:
            on_failure = function.on_failure_queue_logical_id
            pollers.append(
                StreamPoller(
                    function,
                    resources.stream_arn,
                    resources.queue_urls[on_failure] if on_failure else None,
                    context,
                )
            )
        for function in self.topology.sqs_functions:
            # As many batches at once as Lambda runs for the queue (its maximumConcurrency),
            # so that make run shows the ceiling AWS will; worker_concurrency caps it if given.
            concurrency = function.maximum_concurrency or DEFAULT_QUEUE_CONCURRENCY
            if self.worker_concurrency:
                concurrency = min(concurrency, self.worker_concurrency)
            for _ in range(concurrency):
                pollers.append(
                    SqsPoller(
                        function,
                        resources.queue_urls[function.queue_logical_id],
                        resources.queue_arns[function.queue_logical_id],
                        context,
                    )
                )
        for scheduled in self.topology.scheduled_functions:
            pollers.append(SchedulePoller(scheduled, context, self.schedule_seconds_override))
        for poller in pollers:
            thread = threading.Thread(target=poller.run, name=f"poller-{poller.function.name}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout)
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
