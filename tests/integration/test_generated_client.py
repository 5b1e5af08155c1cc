"""An integrator's view: a client generated from /openapi.json by openapi-python-client works as it is."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

KEY = {"x-api-key": "generated-client-key"}
BIN = Path(sys.executable).parent


@pytest.fixture
def generated(provisioned, tmp_path, monkeypatch):
    """The package openapi-python-client makes of the served document, importable, and the app it talks to."""
    app = create_app(
        Settings(table_name=provisioned.resources.table_name, api_keys=KEY["x-api-key"]),
        store=provisioned.store,
    )
    document = TestClient(app).get("/openapi.json", headers=KEY).json()
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    package = "async_app_api_generated"
    result = subprocess.run(
        [str(BIN / "openapi-python-client"), "generate", "--path", "openapi.json", "--output-path", package,
         "--meta", "none"],
        cwd=tmp_path,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    # Generated without a single warning: every schema and response of the document is one it understands.
    assert result.returncode == 0 and "Warning" not in result.stdout + result.stderr, (
        result.stdout + result.stderr
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module(package), app
    for name in [name for name in sys.modules if name.startswith(package)]:
        del sys.modules[name]


def test_the_generated_client_creates_a_task_and_reads_it_back(generated):
    package, app = generated
    create_task = importlib.import_module(f"{package.__name__}.api.default.create_task")
    get_task = importlib.import_module(f"{package.__name__}.api.default.get_task")
    models = importlib.import_module(f"{package.__name__}.models")

    client = package.Client(base_url="http://testserver")
    # The generated client sends through any httpx client; here, one that calls the app in process.
    client.set_httpx_client(TestClient(app, base_url="http://testserver", headers=KEY))
    body = models.CreateTaskRequest(
        task_type=models.CreateTaskRequestTaskType.TASK2,
        data=models.CreateTaskRequestData.from_dict({"text": "generated"}),
    )
    accepted = create_task.sync_detailed(client=client, body=body, idempotency_key="generated-1")
    assert accepted.status_code == 202 and isinstance(accepted.parsed, models.CreatedOut)
    assert accepted.headers["location"].endswith(f"/tasks/{accepted.parsed.id}")

    task = get_task.sync(task_id=accepted.parsed.id, client=client)
    assert isinstance(task, models.TaskOut)
    assert (task.status, task.task_type, task.data.to_dict()) == (
        models.TaskStatus.CREATED,
        "TASK2",
        {"text": "generated"},
    )
    # An error is the documented ErrorBody.
    missing = get_task.sync(task_id="00000000-0000-4000-8000-000000000000", client=client)
    assert isinstance(missing, models.ErrorBody) and missing.error == "not_found"
