"""One stage of serverless.yml on the emulator, where a function runs as it would in AWS.

``run_as(function)`` gives the process the environment serverless.yml gives
that function (a deployed stage's: secrets from SSM), with every cached client,
setting and app forgotten, so nothing of another function's is reused.
``lambda_service(function)`` plays Lambda's event source mappings for it with
app/local's pollers, on clients of their own: in AWS, Lambda polls with the
function's role, so their calls count as the function's.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from app.local import sls_config
from app.local.lambda_events import LambdaContext
from app.local.pollers import Invocation, PollerContext, SqsPoller, StreamPoller, import_handler
from app.local.runtime import emulator_clients
from tests.iam.api_gateway import ApiGatewayTransport
from tests.iam.cloudformation import Deployment, evaluate
from tests.iam.roles import deployed_name, log_group_logical_id
from tests.integration.conftest import Provisioned, provision_stage

API_HOST = "abcdef1234.execute-api.eu-west-1.amazonaws.com"


@dataclass
class Stage:
    provisioned: Provisioned
    document: dict[str, Any]
    deployment: Deployment
    endpoint: str
    setup_ssm: Any

    @classmethod
    def provision(cls, endpoint: str) -> Stage:
        import boto3

        provisioned = provision_stage(endpoint, include_local_only=False)
        # What a package deploys: the local-only task types have no role in AWS.
        document = sls_config.read(stage=provisioned.topology.stage, include_local_only=False)
        region = provisioned.topology.region
        setup_ssm = boto3.client("ssm", endpoint_url=endpoint, region_name=region)
        return cls(provisioned, document, _deployment(provisioned, document), endpoint, setup_ssm)

    @property
    def name(self) -> str:
        return self.provisioned.topology.stage

    @property
    def store(self) -> Any:
        """The test's own store (its calls are not the function's)."""
        return self.provisioned.store

    @property
    def setup_clients(self) -> list[Any]:
        return [*self.provisioned.clients.values(), self.setup_ssm]

    def environment(self, function: str) -> dict[str, str]:
        provider = self.document["provider"].get("environment") or {}
        own = self.document["functions"][function].get("environment") or {}
        return {name: str(evaluate(value, self.deployment)) for name, value in {**provider, **own}.items()}

    @contextmanager
    def run_as(self, function: str) -> Iterator[None]:
        environment = self.environment(function)
        saved = {name: os.environ.get(name) for name in environment}
        os.environ.update(environment)
        _forget_cached_state()
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            _forget_cached_state()

    def api(self, source_ip: str = "198.51.100.20") -> httpx.Client:
        """An HTTP client of the api function behind API Gateway's stage (REST API, proxy)."""
        from app.main import handler

        transport = ApiGatewayTransport(
            handler, deployed_name(self.document, "api"), self.provisioned.topology.region, source_ip
        )
        return httpx.Client(transport=transport, base_url=f"https://{API_HOST}/{self.name}")

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        """Call ``function``'s handler once, as Lambda would (a schedule's event, say)."""
        spec = self.document["functions"][function]
        context = LambdaContext(
            deployed_name(self.document, function),
            int(spec.get("timeout", self.document["provider"].get("timeout", 6))),
            self.provisioned.topology.region,
        )
        return import_handler(spec["handler"])(event, context)

    @contextmanager
    def lambda_service(self, function: str, **overrides: Any) -> Iterator[list[Invocation]]:
        """Lambda's event source mappings of ``function`` running until the block ends.

        ``overrides`` change its settings (e.g. maximum_retry_attempts) to reach
        a path sooner; the pollers and the handler stay the same code.
        """
        topology = self.provisioned.topology
        resources = self.provisioned.resources
        invocations: list[Invocation] = []
        stop = threading.Event()
        context = PollerContext(
            emulator_clients(self.endpoint, topology.region), topology.region, stop, invocations.append
        )
        pollers: list[Any] = []
        for stream_function in topology.stream_functions:
            if stream_function.name == function:
                on_failure = stream_function.on_failure_queue_logical_id
                pollers.append(
                    StreamPoller(
                        dataclasses.replace(stream_function, **overrides),
                        resources.stream_arn,
                        resources.queue_urls[on_failure] if on_failure else None,
                        context,
                    )
                )
        for queue_function in topology.sqs_functions:
            if queue_function.name == function:
                logical_id = queue_function.queue_logical_id
                pollers.append(
                    SqsPoller(
                        dataclasses.replace(queue_function, **overrides),
                        resources.queue_urls[logical_id],
                        resources.queue_arns[logical_id],
                        context,
                    )
                )
        if not pollers:
            raise ValueError(f"{function} has no stream or queue event in serverless.yml")
        threads = [threading.Thread(target=poller.run, daemon=True) for poller in pollers]
        for thread in threads:
            thread.start()
        try:
            yield invocations
        finally:
            stop.set()
            for thread in threads:
                thread.join(10)


def _deployment(provisioned: Provisioned, document: dict[str, Any]) -> Deployment:
    """What CloudFormation would resolve in this stage: the emulator's ARNs and the framework's log groups."""
    topology, resources, clients = provisioned.topology, provisioned.resources, provisioned.clients
    table = clients["dynamodb"].describe_table(TableName=resources.table_name)["Table"]
    region, account = topology.region, table["TableArn"].split(":")[4]
    attributes: dict[str, dict[str, str]] = {
        topology.table.logical_id: {
            "Ref": resources.table_name,
            "Arn": table["TableArn"],
            "StreamArn": resources.stream_arn,
        }
    }
    for logical_id, arn in resources.topic_arns.items():
        attributes[logical_id] = {"Ref": arn, "TopicArn": arn, "TopicName": arn.rsplit(":", 1)[1]}
    for logical_id, arn in resources.queue_arns.items():
        url = resources.queue_urls[logical_id]
        attributes[logical_id] = {"Ref": url, "Arn": arn, "QueueUrl": url, "QueueName": arn.rsplit(":", 1)[1]}
    for function in document.get("functions") or {}:
        group = f"/aws/lambda/{deployed_name(document, function)}"
        # CloudFormation's Arn of a log group ends in ":*".
        arn = f"arn:aws:logs:{region}:{account}:log-group:{group}:*"
        attributes[log_group_logical_id(function)] = {"Ref": group, "Arn": arn}
    template = document["resources"]
    return Deployment(
        region=region,
        account=account,
        attributes=attributes,
        parameters={
            name: spec.get("Default", "") for name, spec in (template.get("Parameters") or {}).items()
        },
        conditions=template.get("Conditions") or {},
    )


def _forget_cached_state() -> None:
    """Settings, clients, stores, the api's app and Powertools' parameter providers, built afresh."""
    from aws_lambda_powertools.utilities.parameters import base

    import app.main
    from app.adapters import aws, task_store
    from app.settings import get_settings

    get_settings.cache_clear()
    aws.reset_clients()
    task_store.for_table.cache_clear()
    app.main._lambda_handler = None
    base.DEFAULT_PROVIDERS.clear()
