"""One x-api-key per request: two can't authenticate as one caller and be recorded as another (issue 18)."""

import pytest
from fastapi.testclient import TestClient

from app.api.auth import presented_key
from app.main import create_app
from app.settings import Settings

KEYS = "key-of-ann,key-of-bob"


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(Settings(api_keys=KEYS)))


@pytest.mark.parametrize(
    "headers",
    [
        [("x-api-key", "key-of-ann"), ("x-api-key", "key-of-bob")],
        [("x-api-key", "nonsense"), ("x-api-key", "key-of-bob")],
        [("x-api-key", "key-of-bob"), ("X-Api-Key", "key-of-bob")],
        # A repeated header as API Gateway passes it (Mangum joins REST multiValueHeaders with ", ").
        [("x-api-key", "key-of-ann, key-of-bob")],
        [("x-api-key", "key-of-ann,key-of-bob")],
    ],
)
def test_more_than_one_key_is_refused(client, headers):
    for method, path in (("GET", "/tasks"), ("POST", f"/tasks/{'0' * 8}-0000-4000-8000-{'0' * 12}/cancel")):
        response = client.request(method, path, headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "error": "unauthorized",
            "message": "Send one x-api-key header, with one key",
        }


def test_one_key_still_passes(client):
    assert client.get("/openapi.json", headers={"x-api-key": "key-of-bob"}).status_code == 200
    assert client.get("/openapi.json", headers=[("x-api-key", "key-of-bob")] * 2).status_code == 401
    assert client.get("/tasks").json()["message"] == "Missing or invalid x-api-key header"


def test_the_key_presented_is_read_from_the_raw_headers():
    assert presented_key({"headers": []}) == ""
    assert presented_key({"headers": [(b"x-api-key", b"k")]}) == "k"
    assert presented_key({"headers": [(b"x-api-key", b"k"), (b"x-api-key", b"k")]}) is None
    assert presented_key({"headers": [(b"x-api-key", b"a, b")]}) is None
