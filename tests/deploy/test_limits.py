"""Traffic limits in the packaged template: stage throttling, reserved concurrency, API Gateway's answers."""

from __future__ import annotations

import json
import re

import pytest

from app.api.errors import DOMAIN_STATUS
from app.domain.errors import Throttled
from app.task_registry import read_folder
from tests.deploy.limits import DEPLOY_DOC, documented_params, params, reliability_section, section
from tests.deploy.packaged import function_logical_id, mappings_of, of_type, referenced

pytestmark = pytest.mark.deploy

RESERVED = {
    "api": "apiReservedConcurrency",
    "publisher": "publisherReservedConcurrency",
    "changes": "changesReservedConcurrency",
    "reconciler": "reconcilerReservedConcurrency",
    "scheduler": "schedulerReservedConcurrency",
    "webhooks": "webhooksReservedConcurrency",
}
# Lambda keeps this much of an account's concurrency unreserved.
UNRESERVED_MINIMUM = 100


DEPLOYED = read_folder()
WORKERS = {task_type.function_name: task_type for task_type in DEPLOYED.values()}


def reserved_param(function: str) -> str | None:
    """The param a function's reservation comes from; None for deadLetters (2 per task type)."""
    if function == "deadLetters":
        return None
    return RESERVED.get(function, "workerReservedConcurrency")


def expected_reservation(function: str, declared: dict) -> int:
    """docs/deploy.md's rule: a param per engine function; per task type its concurrency (or the
    workers' param), and two for deadLetters' mapping of its DLQ."""
    if function == "deadLetters":
        return 2 * len(DEPLOYED)
    if function in WORKERS and WORKERS[function].settled_concurrency:
        return WORKERS[function].settled_concurrency
    return params(declared)[reserved_param(function)]


def test_the_stage_is_throttled_at_the_documented_rate_and_burst(resources, declared):
    """On a stage resource of its own: CloudFormation updates it in place when a limit changes."""
    (stage,) = of_type(resources, "AWS::ApiGateway::Stage").values()
    (settings,) = stage["Properties"]["MethodSettings"]
    assert (settings["HttpMethod"], settings["ResourcePath"]) == ("*", "/*")
    assert settings["ThrottlingRateLimit"] == params(declared)["apiRateLimit"]
    assert settings["ThrottlingBurstLimit"] == params(declared)["apiBurstLimit"]
    assert 0 < settings["ThrottlingRateLimit"] <= settings["ThrottlingBurstLimit"]


def test_every_function_has_its_reserved_concurrency(resources, declared):
    assert params(declared)["reservedConcurrency"] == "on"
    assert set(declared["functions"]) == set(RESERVED) | set(WORKERS) | {"deadLetters"}, (
        "a new engine function needs its reservedConcurrency param, in RESERVED and docs/deploy.md's rule"
    )
    for name in declared["functions"]:
        properties = resources[function_logical_id(name)]["Properties"]
        reserved = properties.get("ReservedConcurrentExecutions")
        assert reserved == expected_reservation(name, declared), (
            f"{name}: reservedConcurrency by docs/deploy.md's rule, so that no flood takes its concurrency"
        )


def test_the_docs_give_the_account_concurrency_each_setting_needs_as_a_rule(declared):
    """The quota follows from the params: the docs say how, and name every param the sum takes."""
    rule = section(DEPLOY_DOC.read_text(), "### Which quota each setting needs")
    for param in {reserved_param(name) for name in declared["functions"]} - {None}:
        assert f"`{param}`" in rule, f"docs/deploy.md: the concurrency rule names `{param}`"
    assert "2 per task type" in " ".join(rule.split()), (
        "docs/deploy.md: deadLetters' share in the concurrency rule"
    )
    assert f"+ {UNRESERVED_MINIMUM}" in rule
    assert "reservedConcurrency=off" in rule


def account_concurrency_needed(resources) -> int:
    """What the packaged template reserves, plus what Lambda keeps unreserved."""
    reserved = [
        r["Properties"].get("ReservedConcurrentExecutions", 0)
        for r in of_type(resources, "AWS::Lambda::Function").values()
    ]
    return sum(reserved) + UNRESERVED_MINIMUM


def test_the_account_concurrency_needed_is_the_sum_of_the_params(resources, declared):
    names = declared["functions"]
    expected = sum(expected_reservation(name, declared) for name in names) + UNRESERVED_MINIMUM
    assert account_concurrency_needed(resources) == expected


def test_no_queue_mapping_receives_more_than_its_function_may_run(resources, declared):
    """A receive Lambda can't invoke for is a throttle, which counts towards maxReceiveCount."""
    for name in declared["functions"]:
        reserved = resources[function_logical_id(name)]["Properties"]["ReservedConcurrentExecutions"]
        queue_mappings = [
            m for m in mappings_of(resources, name)
            if resources[referenced(m["EventSourceArn"])]["Type"] == "AWS::SQS::Queue"
        ]  # fmt: skip
        caps = [m.get("ScalingConfig", {}).get("MaximumConcurrency") for m in queue_mappings]
        assert None not in caps, f"{name}: every sqs event needs maximumConcurrency"
        assert sum(caps) <= reserved, (
            f"{name}: its queue mappings may run {sum(caps)} at once, {reserved} reserved"
        )


def _gateway_responses(resources):
    return {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in of_type(resources, "AWS::ApiGateway::GatewayResponse").values()
    }


def _rendered(template: str) -> dict:
    """The body API Gateway sends, with its message variable given a value that needs escaping."""
    return json.loads(template.replace("$context.error.messageString", json.dumps('Missing "token"')))


@pytest.mark.parametrize(
    "kind", ["THROTTLED", "REQUEST_TOO_LARGE", "INTEGRATION_FAILURE", "DEFAULT_4XX", "DEFAULT_5XX"]
)
def test_api_gateways_own_answers_are_json_in_the_apis_error_shape(resources, kind):
    response = _gateway_responses(resources)[kind]
    (media_type,) = response["ResponseTemplates"]
    body = _rendered(response["ResponseTemplates"][media_type])
    assert media_type == "application/json"
    assert set(body) == {"error", "message"} and re.fullmatch(r"[a-z_]+", body["error"])


def test_throttled_and_oversized_say_what_the_app_says(resources):
    responses = _gateway_responses(resources)
    throttled = responses["THROTTLED"]
    assert (
        int(throttled["StatusCode"]),
        _rendered(throttled["ResponseTemplates"]["application/json"])["error"],
    ) == DOMAIN_STATUS[Throttled]
    retry_after = throttled["ResponseParameters"]["gatewayresponse.header.Retry-After"]
    assert re.fullmatch(r"'[1-9]\d*'", retry_after), "a static header value is quoted: '1'"
    unavailable = responses["INTEGRATION_FAILURE"]  # the api function out of concurrency
    assert int(unavailable["StatusCode"]) == 503
    assert re.fullmatch(
        r"'[1-9]\d*'", unavailable["ResponseParameters"]["gatewayresponse.header.Retry-After"]
    )
    too_large = responses["REQUEST_TOO_LARGE"]
    assert int(too_large["StatusCode"]) == 413
    assert _rendered(too_large["ResponseTemplates"]["application/json"])["error"] == "request_too_large"


def test_every_deployment_includes_the_gateway_responses(resources):
    responses = set(of_type(resources, "AWS::ApiGateway::GatewayResponse"))
    for deployment in of_type(resources, "AWS::ApiGateway::Deployment").values():
        assert responses <= set(deployment["DependsOn"])


def test_every_param_is_documented_with_its_default(declared):
    documented = documented_params()
    for name, value in params(declared).items():
        assert name in documented, f"docs/deploy.md: a row for `{name}`"
        assert documented[name] == ("''" if value == "" else str(value)), (
            f"docs/deploy.md: `{name}` is {value!r}"
        )
    assert set(documented) <= set(params(declared)) | {"stage", "region"}, (
        "docs/deploy.md documents a param serverless.yml lacks"
    )


def test_the_operations_doc_gives_every_limit_and_threshold_with_its_number(declared):
    """Numbers only: the switches (on/off, retain/delete, a region) are docs/deploy.md's."""
    section = reliability_section()
    for name, value in params(declared).items():
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        rows = [line for line in section.splitlines() if f"`{name}`" in line]
        assert rows, f"docs/operations.md's Reliability and security: a row naming `{name}`"
        assert any(re.search(rf"\b{value}\b", row) for row in rows), (
            f"docs/operations.md: `{name}` with its default {value}"
        )
