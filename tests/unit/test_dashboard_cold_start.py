"""A cold start that serves the JSON API pays nothing for the dashboard."""

import json
import subprocess
import sys

from tests.conftest import ROOT

DASHBOARD_ONLY = [
    "jinja2",
    "itsdangerous",
    "app.dashboard.routes",
    "app.dashboard.views",
    "app.services.dashboard",
]


def test_the_api_app_imports_no_dashboard_code_until_a_dashboard_request():
    code = (
        "import json, sys\n"
        "from fastapi.testclient import TestClient\n"
        "from app.main import create_app\n"
        "app = create_app()\n"
        f"loaded = lambda: [m for m in {DASHBOARD_ONLY!r} if m in sys.modules]\n"
        "before = loaded()\n"
        "TestClient(app).get('/health')\n"
        "after_api = loaded()\n"
        "TestClient(app, follow_redirects=False).get('/dashboard/login')\n"
        "print(json.dumps([before, after_api, loaded()]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    before, after_api, after_dashboard = json.loads(result.stdout.strip().splitlines()[-1])
    assert before == [] and after_api == []
    assert after_dashboard == DASHBOARD_ONLY
