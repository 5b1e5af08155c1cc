"""Secrets: from the environment locally, from SSM Parameter Store in AWS."""

from __future__ import annotations

from app.settings import LOCAL_API_KEY, LOCAL_DASHBOARD_USERS, LOCAL_SESSION_SECRET, Settings

_SECRET_MAX_AGE_SECONDS = 300
MIN_SESSION_SECRET_CHARS = 32


class SecretNotConfigured(Exception):
    """A secret is missing, or is still the local default outside the local stage."""


def _read(value: str, parameter: str) -> str:
    if not parameter:
        return value
    from aws_lambda_powertools.utilities import parameters

    # Cached for a few minutes per warm container, so a rotated value is picked up.
    return parameters.get_parameter(parameter, decrypt=True, max_age=_SECRET_MAX_AGE_SECONDS)


def api_keys(settings: Settings) -> frozenset[str]:
    # Checked here, not in Settings: the workers share Settings and take no API calls.
    if not settings.is_local and not settings.api_keys_parameter and LOCAL_API_KEY in settings.api_keys:
        raise SecretNotConfigured(
            "API_KEYS still holds the local default key outside the local stage; "
            "set API_KEYS_PARAMETER to an SSM SecureString"
        )
    raw = _read(settings.api_keys, settings.api_keys_parameter)
    return frozenset(key.strip() for key in raw.split(",") if key.strip())


def dashboard_users(settings: Settings) -> dict[str, str]:
    """Dashboard accounts, user name to password, from "user:password,user2:password2"."""
    # Checked here, not in Settings: the workers share Settings and never sign anyone in.
    deployed_default = not settings.is_local and not settings.dashboard_users_parameter
    if deployed_default and settings.dashboard_users in ("", LOCAL_DASHBOARD_USERS):
        raise SecretNotConfigured(
            "DASHBOARD_USERS is the local default outside the local stage; "
            "set DASHBOARD_USERS_PARAMETER to an SSM SecureString"
        )
    raw = _read(settings.dashboard_users, settings.dashboard_users_parameter)
    users: dict[str, str] = {}
    for entry in raw.split(","):
        name, sep, password = entry.strip().partition(":")
        if sep and name and password:
            users[name] = password
    if not users:
        raise SecretNotConfigured("no dashboard user is configured (expected user:password pairs)")
    return users


def session_secrets(settings: Settings) -> list[str]:
    """Keys that sign session cookies, oldest first: the last one signs, all of them verify."""
    deployed_default = not settings.is_local and not settings.session_secret_parameter
    if deployed_default and LOCAL_SESSION_SECRET in settings.session_secret:
        raise SecretNotConfigured(
            "SESSION_SECRET is the local default outside the local stage; "
            "set SESSION_SECRET_PARAMETER to an SSM SecureString"
        )
    raw = _read(settings.session_secret, settings.session_secret_parameter)
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if not keys or any(len(key) < MIN_SESSION_SECRET_CHARS for key in keys):
        raise SecretNotConfigured(
            f"every session secret needs at least {MIN_SESSION_SECRET_CHARS} characters"
        )
    return keys
