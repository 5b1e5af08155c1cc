"""POST /tasks takes UTF-8 JSON only: UTF-16 and UTF-32 bodies, and other charsets, are refused (issue 18)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

pytestmark = pytest.mark.integration
KEY = {"x-api-key": "utf8-key"}
BODY = {"task_type": "TASK1", "data": {"text": "héllo ☃"}}


@pytest.fixture(scope="module")
def client(provisioned) -> TestClient:
    settings = Settings(table_name=provisioned.resources.table_name, api_keys=KEY["x-api-key"])
    return TestClient(create_app(settings, store=provisioned.store))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-8-sig"])
def test_a_body_in_another_encoding_is_refused(client, encoding):
    body = json.dumps(BODY, ensure_ascii=False).encode(encoding)
    response = client.post("/tasks", content=body, headers={**KEY, "content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_json"


@pytest.mark.parametrize("charset", ["utf-16", "latin-1", '"utf-32"'])
def test_a_charset_other_than_utf_8_is_refused(client, charset):
    body = json.dumps(BODY).encode()
    headers = {**KEY, "content-type": f"application/json; charset={charset}"}
    response = client.post("/tasks", content=body, headers=headers)
    assert response.status_code == 415
    assert response.json()["message"] == "Content-Type must be application/json in UTF-8"


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8"]
)
def test_utf_8_is_accepted(client, content_type):
    body = json.dumps(BODY, ensure_ascii=False).encode()
    response = client.post("/tasks", content=body, headers={**KEY, "content-type": content_type})
    assert response.status_code == 202, response.text
    task = client.get(response.headers["location"], headers=KEY).json()
    assert task["data"] == BODY["data"]
