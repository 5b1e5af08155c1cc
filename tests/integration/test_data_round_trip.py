"""Whatever POST /tasks accepts, GET /tasks/{id} returns exactly: the same JSON, byte for byte.

Property-based (hypothesis) through the app against the store on the
emulator. The values include what the API must refuse (NaN, infinities,
lone surrogates, nesting past the limit): each is either refused with a 4xx
or read back exactly, never stored and then broken.
"""

from __future__ import annotations

import json
import math

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain import rules
from app.main import create_app
from app.settings import Settings

pytestmark = pytest.mark.integration
KEY = {"x-api-key": "round-trip-key", "content-type": "application/json"}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    # Any code point, lone surrogates included.
    | st.text(alphabet=st.characters(exclude_categories=()), max_size=12)
    # Rare in the strategies above; what broke the API before, so drawn often.
    | st.sampled_from([math.nan, math.inf, -math.inf, 1e308, "\ud800", "a\udfffb", "\U0001f600", 10**20])
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)


def nested(depth: int, leaf: object) -> object:
    for level in range(depth):
        leaf = [leaf] if level % 2 else {"n": leaf}
    return leaf


deep = st.builds(
    nested, st.integers(min_value=rules.MAX_DATA_DEPTH - 3, max_value=rules.MAX_DATA_DEPTH + 40), scalars
)
datas = st.dictionaries(st.text(max_size=8), values, max_size=5) | st.dictionaries(
    st.text(max_size=8), deep, min_size=1, max_size=1
)


def encoded(value: object) -> bytes:
    """JSON as Python writes it: NaN, Infinity and escaped lone surrogates included."""
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode()


@pytest.fixture(scope="module")
def client(provisioned) -> TestClient:
    settings_ = Settings(table_name=provisioned.resources.table_name, api_keys=KEY["x-api-key"])
    return TestClient(create_app(settings_, store=provisioned.store))


@given(data=datas)
@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_what_is_accepted_reads_back_byte_for_byte(client, data):
    body = b'{"task_type": "TASK1", "data": ' + encoded(data) + b"}"
    created = client.post("/tasks", content=body, headers=KEY)
    assert created.status_code in (202, 400, 413, 422), created.text
    if created.status_code != 202:
        assert created.json()["error"] in ("invalid_json", "too_deeply_nested", "data_too_large")
        return
    read = client.get(created.headers["location"], headers=KEY)
    assert read.status_code == 200, read.text
    returned = read.json()["data"]
    sent = json.loads(encoded(data))
    assert json.dumps(returned, ensure_ascii=False) == json.dumps(sent, ensure_ascii=False)
    # And so does every listing page that holds it.
    listed = client.get("/tasks", params={"limit": 20}, headers=KEY)
    assert listed.status_code == 200 and created.json()["id"] in [
        task["id"] for task in listed.json()["tasks"]
    ]


def test_the_refusals_happen(client):
    """The property above is not vacuous: these reach each refusal."""
    refused = {
        "invalid_json": b'{"task_type": "TASK1", "data": {"x": NaN}}',
        "invalid_json ": b'{"task_type": "TASK1", "data": {"x": "\\ud800"}}',
        "too_deeply_nested": b'{"task_type": "TASK1", "data": '
        + encoded({"d": nested(rules.MAX_DATA_DEPTH, 1)})
        + b"}",
    }
    for code, body in refused.items():
        response = client.post("/tasks", content=body, headers=KEY)
        assert response.json()["error"] == code.strip(), response.text
    fits = b'{"task_type": "TASK1", "data": ' + encoded({"d": nested(rules.MAX_DATA_DEPTH - 1, 1)}) + b"}"
    assert client.post("/tasks", content=fits, headers=KEY).status_code == 202
