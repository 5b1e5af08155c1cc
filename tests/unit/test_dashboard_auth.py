"""Dashboard accounts, password hashes and session keys: where they come from and when they are refused."""

import subprocess
import sys

import pytest

from app.adapters import passwords, secrets
from app.dashboard import session as sessions
from app.dashboard.session import Session
from app.settings import LOCAL_DASHBOARD_USERS, Settings
from tests.conftest import ROOT

ANN = passwords.hash_password("a long password")
BOB = passwords.hash_password("pa:ss,word")


def settings(**values) -> Settings:
    return Settings(api_keys="k", **values)


def test_the_local_default_account_is_admin_admin_as_a_committed_hash():
    users = secrets.dashboard_users(settings())
    assert list(users) == ["admin"] and users["admin"].startswith("$argon2id$")
    assert "admin:admin" not in LOCAL_DASHBOARD_USERS
    assert passwords.verify(users, "admin", "admin")


def test_accounts_are_user_and_argon2_hash_entries():
    users = secrets.dashboard_users(settings(dashboard_users=f" ann:{ANN} ,\nbob:{BOB}"))
    assert users == {"ann": ANN, "bob": BOB}


@pytest.mark.parametrize(
    "configured", ["ann:secret", f"ann:{ANN},bob:plain-text", "", ",", "ann:$argon2id$broken"]
)
def test_a_plain_password_or_broken_hash_is_refused_and_not_echoed(configured):
    with pytest.raises(secrets.SecretNotConfigured, match="argon2 hash") as refused:
        secrets.dashboard_users(settings(dashboard_users=configured))
    assert "secret" not in str(refused.value) and "plain-text" not in str(refused.value)


def test_passwords_are_checked_exactly():
    users = {"ann": ANN, "bob": BOB}
    assert passwords.verify(users, "ann", "a long password")
    assert passwords.verify(users, "bob", "pa:ss,word")
    for user, password in (
        ("ann", "pa:ss,word"),
        ("ann", "a long passwor"),
        ("ANN", "a long password"),
        ("", ""),
        ("eve", "a long password"),
        ("ann", ANN),
    ):
        assert not passwords.verify(users, user, password)


def test_a_stored_entry_that_is_not_a_hash_never_signs_in():
    assert not passwords.verify({"ann": "a long password"}, "ann", "a long password")


def test_the_hash_command_prints_an_entry_that_signs_in():
    made = subprocess.run(
        [sys.executable, "-m", "app.dashboard.hash_password", "carol"],
        input="s3cret words\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    entry = made.stdout.strip()
    assert "s3cret" not in entry and entry.startswith("carol:$argon2id$")
    users = secrets.dashboard_users(settings(dashboard_users=entry))
    assert passwords.verify(users, "carol", "s3cret words")


def test_deployed_stages_refuse_the_local_defaults():
    deployed = settings(stage="dev", local_mode=False)
    with pytest.raises(secrets.SecretNotConfigured, match="DASHBOARD_USERS_PARAMETER"):
        secrets.dashboard_users(deployed)
    with pytest.raises(secrets.SecretNotConfigured, match="SESSION_SECRET_PARAMETER"):
        secrets.session_secrets(deployed)
    with pytest.raises(secrets.SecretNotConfigured, match="PAGE_TOKEN_SECRET_PARAMETER"):
        secrets.page_token_secrets(deployed)
    own = settings(
        stage="dev",
        local_mode=False,
        dashboard_users=f"ops:{ANN}",
        session_secret="s" * 40,
        page_token_secret="p" * 40,
    )
    assert secrets.dashboard_users(own) == {"ops": ANN}
    assert secrets.session_secrets(own) == ["s" * 40]
    assert secrets.page_token_secrets(own) == ["p" * 40]


def test_session_secrets_rotate_and_must_be_long():
    assert secrets.session_secrets(settings(session_secret=f"{'a' * 32},{'b' * 32}")) == ["a" * 32, "b" * 32]
    with pytest.raises(secrets.SecretNotConfigured, match="32 characters"):
        secrets.session_secrets(settings(session_secret="short"))


def test_in_aws_they_come_from_ssm_and_the_users_list_is_cached_a_minute_at_most(monkeypatch):
    asked = []

    def get_parameter(name, decrypt, max_age):
        asked.append((name, decrypt, max_age))
        return {"/app/dev/users": f"ops:{ANN}", "/app/dev/secret": "k" * 40}[name]

    monkeypatch.setattr("aws_lambda_powertools.utilities.parameters.get_parameter", get_parameter)
    deployed = settings(
        stage="dev",
        local_mode=False,
        dashboard_users_parameter="/app/dev/users",
        session_secret_parameter="/app/dev/secret",
    )
    assert secrets.dashboard_users(deployed) == {"ops": ANN}
    assert secrets.session_secrets(deployed) == ["k" * 40]
    assert asked[0] == ("/app/dev/users", True, secrets.USERS_MAX_AGE_SECONDS)
    assert secrets.USERS_MAX_AGE_SECONDS <= 60
    assert asked[1][:2] == ("/app/dev/secret", True)


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
    session = Session.signed_in("ann", "session-id")
    cookie = signed(settings(session_secret=old), session)
    assert sessions.read(request_with_cookie(cookie), settings(session_secret=f"{old},{new}")) == session
    assert sessions.read(request_with_cookie(cookie), settings(session_secret=new)) is None
    assert sessions.read(request_with_cookie(cookie + "x"), settings(session_secret=old)) is None


def test_signing_in_issues_a_new_csrf_token():
    anonymous = Session.anonymous()
    assert anonymous.user is None and anonymous.id == ""
    signed_in = Session.signed_in("ann", "id")
    assert signed_in.csrf != anonymous.csrf
    assert signed_in.signed_out() == Session(csrf=signed_in.csrf)
