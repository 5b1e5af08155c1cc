import pytest
from fastapi.testclient import TestClient

from app.adapters import secrets
from app.main import create_app
from app.settings import LOCAL_API_KEY, Settings


def test_workers_can_load_settings_in_a_deployed_stage():
    # Workers share Settings but take no API calls: no API key is needed to build it.
    assert Settings(stage="dev", local_mode=False).stage == "dev"


def test_the_local_key_is_refused_outside_the_local_stage():
    with pytest.raises(secrets.SecretNotConfigured, match="API_KEYS_PARAMETER"):
        secrets.api_keys(Settings(stage="dev", local_mode=False))
    assert secrets.api_keys(Settings(stage="dev", local_mode=False, api_keys="a-real-key, another")) == {
        "a-real-key",
        "another",
    }
    assert secrets.api_keys(Settings()) == {LOCAL_API_KEY}


def test_an_unconfigured_deployed_api_answers_503_json_not_500():
    client = TestClient(create_app(Settings(stage="dev", local_mode=False)))
    response = client.get("/tasks", headers={"x-api-key": LOCAL_API_KEY})
    assert response.status_code == 503
    assert response.json()["error"] == "not_configured"
    assert "API_KEYS_PARAMETER" in response.json()["message"]
    health = client.get("/health")
    assert health.status_code == 503 and health.json()["ready"] is False
