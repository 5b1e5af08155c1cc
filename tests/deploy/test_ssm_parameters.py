"""The SSM parameters the stack reads: one list (custom.ssmParameters), checked, generated, removed.

`osls preflight` runs against the local emulator's SSM (moto server on
loopback), reached as it reaches SSM in AWS (AWS_ENDPOINT_URL aside).
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import urllib.request
from typing import Any

import boto3
import pytest

from tests.conftest import run_in_root
from tests.deploy.packaged import ROOT, STAGE, TEMPLATE, of_type, offline_environment, osls_binary, packaged

pytestmark = pytest.mark.deploy

REGION = "eu-west-1"


def _listed(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {parameter["name"]: parameter for parameter in state["service"]["custom"]["ssmParameters"]}


def _read_by_template(resources: dict[str, Any]) -> set[str]:
    """Every SSM name a function gets (*_PARAMETER) or a role may read (ssm:GetParameter)."""
    names = set()
    for function in of_type(resources, "AWS::Lambda::Function").values():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        names |= {value for key, value in variables.items() if key.endswith("_PARAMETER")}
    for role in of_type(resources, "AWS::IAM::Role").values():
        text = str(role["Properties"].get("Policies", []))
        names |= set(re.findall(r":parameter(/[A-Za-z0-9_./-]+)", text))
    return names


def test_every_ssm_name_the_template_reads_is_in_the_one_list(resources, state):
    read = _read_by_template(resources)
    assert read, "the template reads SSM parameters"
    assert read == set(_listed(state)), "custom.ssmParameters lists exactly what the template reads"


def test_what_a_person_provides_and_what_the_deploy_generates(state):
    sources = {name.rsplit("/", 1)[1]: p["source"] for name, p in _listed(state).items()}
    assert sources == {
        "api-keys": "operator",
        "dashboard-users": "operator",
        "session-secret": "generated",
        "page-token-secret": "generated",
        "webhook-secret": "generated",
    }


@pytest.fixture
def ssm_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto's state is the process's: start each test from none.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10)
    yield endpoint
    server.stop()


def _preflight(endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    packaged(TEMPLATE)
    binary = osls_binary()
    env = offline_environment(AWS_ENDPOINT_URL=endpoint)
    command = [str(binary), "preflight", "--stage", STAGE, "--region", REGION, *args]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_preflight_names_what_is_missing_and_generate_creates_the_stacks_own(ssm_endpoint, state):
    listed = _listed(state)
    ssm = boto3.client(
        "ssm", endpoint_url=ssm_endpoint, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )

    refused = _preflight(ssm_endpoint)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    for name, parameter in listed.items():
        if parameter["source"] == "operator":
            assert name in output and parameter["what"] in output, name
        else:
            assert f"{name}: missing; the deploy will generate it" in output, name
    assert ssm.describe_parameters()["Parameters"] == [], "preflight alone changes nothing"

    for name, parameter in listed.items():
        if parameter["source"] == "operator":
            ssm.put_parameter(Name=name, Value="provided", Type="SecureString")
    generated = _preflight(ssm_endpoint, "--generate")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    values = {
        p["Name"]: p["Value"]
        for p in ssm.get_parameters(Names=list(listed), WithDecryption=True)["Parameters"]
    }
    assert set(values) == set(listed)
    for name, parameter in listed.items():
        if parameter["source"] == "generated":
            assert f"SSM {name}: created with a random value" in generated.stdout + generated.stderr
            assert values[name] not in generated.stdout + generated.stderr, "a value is never printed"
    secret = values[next(n for n, p in listed.items() if p.get("generate") == "whsec")]
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    session = values[next(n for n, p in listed.items() if p.get("generate") == "hex")]
    assert re.fullmatch(r"[0-9a-f]{64}", session)

    again = _preflight(ssm_endpoint, "--generate")
    assert again.returncode == 0 and "created with a random value" not in again.stdout + again.stderr


REMOVE = """
const SsmParameters = require('./scripts/serverless-ssm-parameters.js');
const state = JSON.parse(require('fs').readFileSync('.serverless/serverless-state.json', 'utf8'));
const provider = {
  getAwsSdkV3Config: async () => ({ region: process.argv[1], endpoint: process.argv[2] }),
  getRegion: () => process.argv[1],
};
// The framework's side of the plugin interface: the service's custom block, its error class, its log.
const serverless = {
  service: { custom: state.service.custom },
  classes: { Error },
  getProvider: () => provider,
};
const plugin = new SsmParameters(serverless, {}, { log: { notice: console.log, warning: console.log } });
plugin.hooks['after:remove:remove']().catch((error) => { console.error(error); process.exit(1); });
"""


def test_remove_deletes_every_parameter_of_the_list(ssm_endpoint, state):
    listed = _listed(state)
    ssm = boto3.client(
        "ssm", endpoint_url=ssm_endpoint, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    for name in listed:
        ssm.put_parameter(Name=name, Value="v", Type="SecureString")
    ssm.put_parameter(Name="/another-app/dev/key", Value="v", Type="SecureString")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    result = run_in_root(["node", "-e", REMOVE, REGION, ssm_endpoint], env)
    assert all(f"SSM {name}: deleted" in result.stdout for name in listed)
    left = [p["Name"] for p in ssm.describe_parameters()["Parameters"]]
    assert left == ["/another-app/dev/key"]
