"""No secret in any log at any level: the real handler at DEBUG, with real-shaped REST and HTTP API events."""

from __future__ import annotations

import base64
import io
import json
import re
from urllib.parse import quote_plus, urlencode

import pytest

from app import observability
from app.adapters.passwords import hash_password
from app.dashboard.session import COOKIE_NAME
from tests.integration.conftest import HANDLER_API_KEY
from tests.integration.test_handlers import Context, event

pytestmark = pytest.mark.integration
PASSWORD = "correct horse battery staple"


def rest_request(method: str, path: str, headers: dict[str, str], body: str | None = None, b64: bool = False):
    request = event("apigw_rest_event.json")
    request.update(httpMethod=method, path=path, body=body, isBase64Encoded=b64)
    request["requestContext"].update(httpMethod=method, path=f"/dev{path}")
    request["headers"].pop("x-api-key")
    request["headers"].update(headers)
    request["multiValueHeaders"] = {name: [value] for name, value in request["headers"].items()}
    return request


def http_api_request(method: str, path: str, cookies: list[str], body: str | None = None, b64: bool = False):
    request = event("apigw_http_event.json")
    request.update(rawPath=path, rawQueryString="", queryStringParameters=None, cookies=cookies)
    request["requestContext"]["http"].update(method=method, path=path)
    request["headers"].pop("x-api-key")
    request["headers"]["content-type"] = "application/x-www-form-urlencoded"
    if body is not None:
        request.update(body=base64.b64encode(body.encode()).decode() if b64 else body, isBase64Encoded=b64)
    return request


def set_cookie(response: dict) -> str:
    values = [
        *response.get("multiValueHeaders", {}).get("set-cookie", []),
        *response.get("cookies", []),
        *filter(None, [response.get("headers", {}).get("set-cookie")]),
    ]
    return next(v for v in values if v.startswith(COOKIE_NAME)).split(";", 1)[0]


@pytest.fixture
def debug_log(deployed, monkeypatch):
    from app.settings import get_settings

    monkeypatch.setenv("DASHBOARD_USERS", f"ops:{hash_password(PASSWORD)}")
    get_settings.cache_clear()
    logger = observability.get_logger()
    handler = logger.registered_handler
    written = io.StringIO()
    stream, handler.stream = handler.stream, written
    logger.setLevel("DEBUG")
    yield written
    logger.setLevel("WARNING")
    handler.stream = stream
    get_settings.cache_clear()


def test_no_password_cookie_csrf_token_or_api_key_is_logged_at_debug(debug_log):
    from app.main import handler

    login_page = handler(rest_request("GET", "/dashboard/login", {}), Context())
    anonymous = set_cookie(login_page)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login_page["body"]).group(1)
    form = urlencode({"username": "ops", "password": PASSWORD, "csrf_token": csrf, "next": ""})
    form_headers = {"content-type": "application/x-www-form-urlencoded", "cookie": anonymous}

    signed_in = handler(rest_request("POST", "/dashboard/login", form_headers, form), Context())
    assert signed_in["statusCode"] == 303, signed_in
    session = set_cookie(signed_in)
    b64_form = base64.b64encode(form.encode()).decode()
    again = handler(rest_request("POST", "/dashboard/login", form_headers, b64_form, b64=True), Context())
    assert again["statusCode"] == 303, again

    page = handler(http_api_request("GET", "/dashboard", [session, "other=1"]), Context())
    assert page["statusCode"] == 200, page
    wrong = form.replace(quote_plus(PASSWORD), quote_plus(PASSWORD + "!"))
    refused = handler(http_api_request("POST", "/dashboard/login", [anonymous], wrong, b64=True), Context())
    assert refused["statusCode"] in (401, 403), refused
    session_csrf = re.search(r'name="csrf_token" value="([^"]+)"', page["body"]).group(1)
    logout = http_api_request("POST", "/dashboard/logout", [session], urlencode({"csrf_token": session_csrf}))
    assert handler(logout, Context())["statusCode"] == 303
    api = rest_request(
        "POST", "/tasks", {"x-api-key": HANDLER_API_KEY}, json.dumps({"task_type": "TASK1", "data": {}})
    )
    assert handler(api, Context())["statusCode"] == 202

    output = debug_log.getvalue()
    logged_events = [json.loads(line) for line in output.splitlines() if '"event received"' in line]
    assert len(logged_events) == 7, output[-2000:]
    assert all(line["level"] == "DEBUG" for line in logged_events)
    secrets = {
        "password": PASSWORD,
        "password, form-encoded": quote_plus(PASSWORD),
        "sign-in body, base64": b64_form,
        "anonymous session cookie": anonymous.split("=", 1)[1],
        "signed-in session cookie": session.split("=", 1)[1],
        "csrf token": csrf,
        "signed-in csrf token": session_csrf,
        "api key": HANDLER_API_KEY,
    }
    for name, secret in secrets.items():
        assert secret not in output, f"the {name} is in the log"
    # What is logged still says what came in, with the secrets masked.
    assert (
        logged_events[1]["event"]["body"] == "***" and logged_events[1]["event"]["headers"]["cookie"] == "***"
    )
    assert logged_events[3]["event"]["cookies"] == ["***", "***"]
    assert logged_events[6]["event"]["multiValueHeaders"]["x-api-key"] == ["***"]
    assert logged_events[6]["event"]["body"].startswith('{"task_type"')
    audit = [json.loads(line) for line in output.splitlines() if '"audit"' in line]
    assert [line["audit"] for line in audit] == ["sign_in", "sign_in", "sign_in_failed", "sign_out"]
