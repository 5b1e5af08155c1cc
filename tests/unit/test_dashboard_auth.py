"""Dashboard accounts and session keys: where they come from and when they are refused."""

import pytest

from app.adapters import secrets
from app.dashboard import session as sessions
from app.dashboard.auth import check_credentials
from app.dashboard.session import Session
from app.settings import LOCAL_DASHBOARD_USERS, Settings


def settings(**values) -> Settings:
    return Settings(api_keys="k", **values)


def test_local_default_account():
    assert secrets.dashboard_users(settings()) == {"admin": "admin"}
    assert LOCAL_DASHBOARD_USERS == "admin:admin"


def test_accounts_from_a_list():
    users = secrets.dashboard_users(settings(dashboard_users=" ann:pa:ss , bob:x,broken, :nouser"))
    assert users == {"ann": "pa:ss", "bob": "x"}


def test_credentials_are_checked_exactly():
    configured = settings(dashboard_users="ann:secret,bob:other")
    assert check_credentials(configured, "ann", "secret")
    assert check_credentials(configured, "bob", "other")
    for user, password in (
        ("ann", "other"),
        ("ann", "secre"),
        ("ANN", "secret"),
        ("", ""),
        ("eve", "secret"),
    ):
        assert not check_credentials(configured, user, password)


def test_deployed_stages_refuse_the_local_defaults():
    deployed = settings(stage="dev")
    with pytest.raises(secrets.SecretNotConfigured, match="DASHBOARD_USERS_PARAMETER"):
        secrets.dashboard_users(deployed)
    with pytest.raises(secrets.SecretNotConfigured, match="SESSION_SECRET_PARAMETER"):
        secrets.session_secrets(deployed)
    own = settings(stage="dev", dashboard_users="ops:long-pass", session_secret="s" * 40)
    assert secrets.dashboard_users(own) == {"ops": "long-pass"}
    assert secrets.session_secrets(own) == ["s" * 40]


def test_session_secrets_rotate_and_must_be_long():
    assert secrets.session_secrets(settings(session_secret=f"{'a' * 32},{'b' * 32}")) == ["a" * 32, "b" * 32]
    with pytest.raises(secrets.SecretNotConfigured, match="32 characters"):
        secrets.session_secrets(settings(session_secret="short"))


def test_in_aws_both_come_from_ssm(monkeypatch):
    asked = []

    def get_parameter(name, decrypt, max_age):
        asked.append((name, decrypt))
        return {"/app/dev/users": "ops:pw", "/app/dev/secret": "k" * 40}[name]

    monkeypatch.setattr("aws_lambda_powertools.utilities.parameters.get_parameter", get_parameter)
    deployed = settings(
        stage="dev", dashboard_users_parameter="/app/dev/users", session_secret_parameter="/app/dev/secret"
    )
    assert secrets.dashboard_users(deployed) == {"ops": "pw"}
    assert secrets.session_secrets(deployed) == ["k" * 40]
    assert asked == [("/app/dev/users", True), ("/app/dev/secret", True)]


def request_with_cookie(value: str):
    from starlette.requests import Request

    cookie = f"{sessions.COOKIE_NAME}={value}".encode()
    return Request({"type": "http", "method": "GET", "path": "/dashboard", "headers": [(b"cookie", cookie)]})


def signed(configured: Settings, session: Session) -> str:
    from starlette.responses import Response

    response = Response()
    sessions.write(response, session, request_with_cookie(""), configured)
    return response.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]


def test_a_session_survives_a_key_rotation_and_not_a_key_change():
    old, new = "o" * 32, "n" * 32
    session = Session.signed_in("ann")
    cookie = signed(settings(session_secret=old), session)
    assert sessions.read(request_with_cookie(cookie), settings(session_secret=f"{old},{new}")) == session
    assert sessions.read(request_with_cookie(cookie), settings(session_secret=new)) is None
    assert sessions.read(request_with_cookie(cookie + "x"), settings(session_secret=old)) is None


def test_signing_in_issues_a_new_csrf_token():
    anonymous = Session.anonymous()
    assert anonymous.user is None
    assert Session.signed_in("ann").csrf != anonymous.csrf
