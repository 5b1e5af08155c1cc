"""A ttl (or run_at) string of thousands of digits is a 422, not a 500, on the API too (issue 18)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

pytestmark = pytest.mark.integration
KEY = {"x-api-key": "long-ttl-key"}


@pytest.mark.parametrize("field", ["ttl", "run_at"])
@pytest.mark.parametrize("digits", [4300, 4301, 100_000])
def test_a_string_of_thousands_of_digits_is_refused_with_a_422(provisioned, field, digits):
    settings = Settings(table_name=provisioned.resources.table_name, api_keys=KEY["x-api-key"])
    client = TestClient(create_app(settings, store=provisioned.store))
    body = {"task_type": "TASK1", "data": {}, field: "9" * digits}
    response = client.post("/tasks", json=body, headers=KEY)
    assert response.status_code == 422, response.text
    assert response.json()["error"] in ("invalid_input", "invalid_request")
