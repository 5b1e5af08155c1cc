"""A deployed stage whose SSM parameters are missing says so: 503 naming the parameter, never 500.

SSM here is the local emulator's (moto server), reached as the api reaches
SSM in AWS: through Powertools' get_parameter and a boto3 client.
"""

from __future__ import annotations

import uuid

import boto3
import pytest
from fastapi.testclient import TestClient

from app.adapters.passwords import hash_password
from app.local import sls_config
from app.main import create_app
from app.settings import Settings

API_KEY = "missing-parameters-key"


@pytest.fixture
def stage(emulator_endpoint: str):
    """A stage's parameter names (as serverless.yml makes them) and the SSM they live in."""
    name = f"it-{uuid.uuid4().hex[:8]}"
    parameters = {
        "api_keys_parameter": f"/async-app/{name}/api-keys",
        "dashboard_users_parameter": f"/async-app/{name}/dashboard-users",
        "session_secret_parameter": f"/async-app/{name}/session-secret",
        "page_token_secret_parameter": f"/async-app/{name}/page-token-secret",
    }
    ssm = boto3.client("ssm", endpoint_url=emulator_endpoint, region_name=sls_config.load().region)
    return name, parameters, ssm


def _put(ssm, name: str, value: str) -> None:
    ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


def _client(stage_name: str, parameters: dict[str, str]) -> TestClient:
    return TestClient(
        create_app(Settings(stage=stage_name, local_mode=False, **parameters)), raise_server_exceptions=False
    )


def test_a_missing_api_keys_parameter_is_a_503_naming_it(stage):
    name, parameters, _ = stage
    response = _client(name, parameters).get("/tasks", headers={"x-api-key": API_KEY})
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "not_configured"
    assert body["parameter"] == parameters["api_keys_parameter"]
    assert parameters["api_keys_parameter"] in body["message"] and "ParameterNotFound" in body["message"]
    assert response.headers["retry-after"]


def test_health_names_every_missing_parameter_and_turns_ready_once_they_exist(stage):
    name, parameters, ssm = stage
    _put(ssm, parameters["api_keys_parameter"], API_KEY)
    _put(ssm, parameters["page_token_secret_parameter"], "p" * 40)
    client = _client(name, parameters)
    health = client.get("/health")
    assert health.status_code == 503
    assert health.json()["ready"] is False
    missing = {problem["parameter"] for problem in health.json()["problems"]}
    assert missing == {parameters["dashboard_users_parameter"], parameters["session_secret_parameter"]}
    # The JSON API itself needs only the API keys and the page-token key (this stage has no table).
    assert client.get("/tasks", headers={"x-api-key": API_KEY}).json()["error"] != "not_configured"

    _put(ssm, parameters["dashboard_users_parameter"], f"ann:{hash_password('ann-password-1')}")
    _put(ssm, parameters["session_secret_parameter"], "s" * 40)
    ready = _client(name, parameters).get("/health")
    assert (ready.status_code, ready.json()["ready"], ready.json()["problems"]) == (200, True, [])


def test_a_malformed_parameter_is_named_too(stage):
    name, parameters, ssm = stage
    _put(ssm, parameters["api_keys_parameter"], API_KEY)
    _put(ssm, parameters["page_token_secret_parameter"], "too-short")
    problems = _client(name, parameters).get("/health").json()["problems"]
    (too_short,) = [p for p in problems if p["parameter"] == parameters["page_token_secret_parameter"]]
    assert "at least 32 characters" in too_short["message"]
