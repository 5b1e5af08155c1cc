"""What makes a first deploy and every later one work (issue 21), on the packaged template.

scripts/deploy_check.sh packages twice: .serverless/ as a deploy would, and
again with --param reservedConcurrency=off --param apiRateLimit=77, keeping
that package's template and manifest in .serverless/second-package/.
"""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
from typing import Any

import pytest

from tests.deploy.limits import params
from tests.deploy.packaged import (
    PACKAGE_DIR,
    ROOT,
    STAGE,
    TEMPLATE,
    dead_letter_queues,
    mappings_of,
    of_type,
    offline_environment,
    osls_binary,
    packaged,
    referenced,
)

pytestmark = pytest.mark.deploy

SECOND = PACKAGE_DIR / "second-package"
SECOND_RATE = 77  # scripts/deploy_check.sh's SECOND_RATE


@pytest.fixture(scope="module")
def second_template() -> dict[str, Any]:
    return json.loads(packaged(SECOND / TEMPLATE.name).read_text())


@pytest.fixture(scope="module")
def second_manifest() -> dict[str, Any]:
    return json.loads(packaged(SECOND / "lambda-python.json").read_text())


# --- 1. redeploys: the stage is a resource of its own -----------------------------


def test_no_deployment_creates_or_configures_the_stage(resources):
    """CloudFormation refuses a new Deployment's StageDescription once the stage exists."""
    (deployment_id,) = of_type(resources, "AWS::ApiGateway::Deployment")
    properties = resources[deployment_id]["Properties"]
    assert "StageName" not in properties and "StageDescription" not in properties
    (stage,) = of_type(resources, "AWS::ApiGateway::Stage").values()
    assert referenced(stage["Properties"]["DeploymentId"]) == deployment_id
    assert stage["Properties"]["StageName"] == STAGE
    assert stage["Properties"]["TracingEnabled"] is True


def test_the_same_api_packages_to_the_same_deployment(resources, second_template):
    """The deployment is named after the API it snapshots: no change, no new deployment."""
    first = set(of_type(resources, "AWS::ApiGateway::Deployment"))
    assert first == set(of_type(second_template["Resources"], "AWS::ApiGateway::Deployment"))


def test_a_changed_throttle_changes_the_stage_in_place(resources, second_template, declared):
    """Same logical id, new MethodSettings: CloudFormation updates the stage on the next deploy."""
    assert params(declared)["apiRateLimit"] != SECOND_RATE
    (first_id,) = of_type(resources, "AWS::ApiGateway::Stage")
    (second_id, second) = next(iter(of_type(second_template["Resources"], "AWS::ApiGateway::Stage").items()))
    assert first_id == second_id
    (settings,) = second["Properties"]["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == SECOND_RATE


def test_the_stage_writes_json_access_logs(resources):
    (stage,) = of_type(resources, "AWS::ApiGateway::Stage").values()
    setting = stage["Properties"]["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiLogGroup", "Arn"]}
    fields = json.loads(setting["Format"])
    assert {"requestId", "status", "responseLatency", "ip", "path"} <= set(fields)
    # API Gateway writes logs with the account's CloudWatch role (param apiGatewayCloudWatchRole).
    (account,) = of_type(resources, "AWS::ApiGateway::Account").values()
    role = resources[referenced(account["Properties"]["CloudWatchRoleArn"])]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert "ApiGatewayAccount" in stage["DependsOn"]


# --- 2. deterministic artefacts ---------------------------------------------------


def test_two_packages_of_the_same_commit_are_byte_identical(manifest, second_manifest):
    assert set(manifest["functions"]) == set(second_manifest["functions"])
    for name, built in manifest["functions"].items():
        digest = hashlib.sha256(packaged(ROOT / built["artifact"]).read_bytes()).hexdigest()
        assert digest == built["sha256"] == second_manifest["functions"][name]["sha256"], name


def _normalized(template: dict[str, Any]) -> dict[str, Any]:
    """The template as osls compares it before a deploy (normalizeCloudFormationTemplate).

    Without what the second package's params changed: reservations and the stage's throttling.
    """
    normalized = copy.deepcopy(template)
    for resource in normalized["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            resource["Properties"]["Code"]["S3Key"] = ""
            resource["Properties"].pop("ReservedConcurrentExecutions", None)
        if resource["Type"] == "AWS::ApiGateway::Stage":
            resource["Properties"]["MethodSettings"][0].pop("ThrottlingRateLimit")
    return normalized


def test_two_packages_give_the_same_template_but_for_what_the_param_changed(template, second_template):
    """So that osls finds nothing to deploy: "Service files not changed. Skipping deployment"."""
    assert _normalized(template) == _normalized(second_template)


# --- 3. reserved concurrency is optional -------------------------------------------


def test_reserved_concurrency_off_reserves_nothing_and_keeps_the_queue_caps(resources, second_template):
    off = second_template["Resources"]
    assert "ReservedConcurrentExecutions" not in json.dumps(off)
    for logical_id, mapping in of_type(resources, "AWS::Lambda::EventSourceMapping").items():
        assert off[logical_id]["Properties"].get("ScalingConfig") == mapping["Properties"].get(
            "ScalingConfig"
        )
    capped = [
        m
        for m in of_type(off, "AWS::Lambda::EventSourceMapping").values()
        if "ScalingConfig" in m["Properties"]
    ]
    assert capped, "the SQS mappings keep their maximumConcurrency"


# --- 6. data survives `remove` --------------------------------------------------------


def test_the_table_is_retained_and_protected_by_default(resources, declared):
    assert params(declared)["dataRetention"] == "retain"
    table = resources["TasksTable"]
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert table["Properties"]["DeletionProtectionEnabled"] is True


def test_a_throwaway_stage_can_let_the_table_go(declared):
    choices = declared["custom"]["dataRetention"]
    assert choices["delete"] == {"policy": "Delete", "deletionProtection": False}
    assert set(choices) == {"retain", "delete"}


# --- 7. no stage can deploy local behaviour ------------------------------------------


def _osls(*args: str) -> subprocess.CompletedProcess[str]:
    binary = osls_binary()
    env = offline_environment()
    command = [str(binary), *args]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_stage_local_is_refused_saying_why(tmp_path):
    packaged(TEMPLATE)
    result = _osls("package", "--stage", "local", "--package", str(tmp_path / "local"))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'Refusing stage "local"' in output and "local runtime" in output
    assert not (tmp_path / "local").exists()
    assert TEMPLATE.exists(), "the refusal comes before osls empties .serverless/"


# --- 9. ops basics ----------------------------------------------------------------------


def test_the_deployment_bucket_blocks_public_access(resources):
    bucket = resources["ServerlessDeploymentBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


def test_every_resource_is_tagged_with_the_service_and_stage(resources, state):
    """Stack tags: CloudFormation puts them on every resource of the stack that takes tags."""
    tags = {"service": "async-app", "stage": STAGE}
    assert state["service"]["provider"]["stackTags"] == tags
    for logical_id, function in of_type(resources, "AWS::Lambda::Function").items():
        assert {t["Key"]: t["Value"] for t in function["Properties"]["Tags"]} == tags, logical_id


def test_new_relics_region_is_a_param(state, declared):
    assert state["service"]["custom"]["newRelic"]["nrRegion"] == params(declared)["newRelicRegion"] == "us"


# --- 8. bounded stream readers and queues ------------------------------------------------


def test_every_consumed_queue_has_a_dlq_but_the_dlqs_themselves(resources):
    """A DLQ's own consumer (deadLetters) retries until the DLQ's 14 days, with its depth alarm firing."""
    queues = of_type(resources, "AWS::SQS::Queue")
    dlqs = dead_letter_queues(resources)
    consumed = {
        referenced(m["Properties"]["EventSourceArn"])
        for m in of_type(resources, "AWS::Lambda::EventSourceMapping").values()
        if referenced(m["Properties"]["EventSourceArn"]) in queues
    }
    assert "PublisherFailureQueue" in consumed
    for queue in consumed - dlqs:
        assert "RedrivePolicy" in queues[queue]["Properties"], f"{queue} is consumed and has no DLQ"


def test_stream_readers_are_bounded_or_alarmed(resources, declared):
    """The publisher gives up after its retries; changes retries without bound, its IteratorAge alarmed."""
    (publisher,) = mappings_of(resources, "publisher")
    assert 0 <= publisher["MaximumRetryAttempts"] <= 10 and publisher["BisectBatchOnFunctionError"] is True
    assert referenced(publisher["DestinationConfig"]["OnFailure"]["Destination"]) == "PublisherFailureQueue"
    (changes,) = mappings_of(resources, "changes")
    assert changes["MaximumRetryAttempts"] == -1
    watched = {
        referenced(d["Value"])
        for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "IteratorAge"
        for d in alarm["Properties"]["Dimensions"]
    }
    assert "ChangesLambdaFunction" in watched
