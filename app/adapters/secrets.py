"""Secrets: from the environment locally, from SSM Parameter Store in AWS."""

from __future__ import annotations

import functools
import re

from app.settings import (
    LOCAL_API_KEY,
    LOCAL_DASHBOARD_USERS,
    LOCAL_PAGE_TOKEN_SECRET,
    LOCAL_SESSION_SECRET,
    Settings,
)

_SECRET_MAX_AGE_SECONDS = 300
# A user removed from the list loses access within this long (each request checks the list).
USERS_MAX_AGE_SECONDS = 60
MIN_SESSION_SECRET_CHARS = 32
# "name:<argon2 hash>"; the hash's own parameters hold commas, so entries are found, not split.
_USER_ENTRY = re.compile(r"([^\s,:]+):(\$argon2(?:id|i|d)\$v=\d+\$[^$\s]+\$[^$\s,]+\$[^$\s,]+)")


class SecretNotConfigured(Exception):
    """A secret is missing, unreadable, malformed, or still the local default outside the local stage.

    ``parameter`` names the SSM parameter it comes from, when one does: the
    api's 503 and /health name it, so an operator knows what to put where.
    """

    def __init__(self, message: str, parameter: str | None = None):
        super().__init__(message)
        self.parameter = parameter


def _read(value: str, parameter: str, max_age: int = _SECRET_MAX_AGE_SECONDS) -> str:
    if not parameter:
        return value
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        # Cached per warm container for max_age seconds, so a rotated value is picked up.
        return parameters.get_parameter(parameter, decrypt=True, max_age=max_age)
    except GetParameterError as exc:
        raise SecretNotConfigured(
            f"SSM parameter {parameter} is missing or unreadable ({_reason(exc)}); "
            "docs/deploy.md says how to create it (make preflight lists what is missing)",
            parameter,
        ) from exc


def _reason(exc: Exception) -> str:
    """AWS's error code (ParameterNotFound, AccessDeniedException...), else the error's type."""
    cause = exc.__cause__ or exc.__context__  # Powertools raises it inside its except block
    response = getattr(cause, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or type(cause).__name__)
    return type(cause or exc).__name__


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
    """Dashboard accounts, user name to argon2 hash, from "user:<hash>,user2:<hash>"."""
    # Checked here, not in Settings: the workers share Settings and never sign anyone in.
    deployed_default = not settings.is_local and not settings.dashboard_users_parameter
    if deployed_default and settings.dashboard_users in ("", LOCAL_DASHBOARD_USERS):
        raise SecretNotConfigured(
            "DASHBOARD_USERS is the local default outside the local stage; "
            "set DASHBOARD_USERS_PARAMETER to an SSM SecureString"
        )
    raw = _read(settings.dashboard_users, settings.dashboard_users_parameter, USERS_MAX_AGE_SECONDS)
    try:
        return dict(_parse_users(raw))
    except SecretNotConfigured as exc:
        raise SecretNotConfigured(str(exc), settings.dashboard_users_parameter or None) from None


@functools.lru_cache(maxsize=8)
def _parse_users(raw: str) -> tuple[tuple[str, str], ...]:
    users = tuple(_USER_ENTRY.findall(raw))
    # Anything left besides separators is an entry that is not a hash (a plain
    # password, say): refused as a whole, and never echoed.
    rest = _USER_ENTRY.sub("", raw).replace(",", "").strip()
    if not users or rest:
        raise SecretNotConfigured(
            "dashboard users must be comma-separated user:<argon2 hash> entries; "
            "make a hash with `python -m app.dashboard.hash_password`"
        )
    return users


def _signing_keys(value: str, parameter: str, local_default: str, name: str, settings: Settings) -> list[str]:
    """Keys that sign something, oldest first: the last one signs, all of them verify."""
    if not settings.is_local and not parameter and local_default in value:
        raise SecretNotConfigured(
            f"{name} is the local default outside the local stage; "
            f"set {name}_PARAMETER to an SSM SecureString"
        )
    raw = _read(value, parameter)
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if not keys or any(len(key) < MIN_SESSION_SECRET_CHARS for key in keys):
        raise SecretNotConfigured(
            f"every {name} key needs at least {MIN_SESSION_SECRET_CHARS} characters", parameter or None
        )
    return keys


def session_secrets(settings: Settings) -> list[str]:
    """Keys that sign session cookies, oldest first."""
    return _signing_keys(
        settings.session_secret,
        settings.session_secret_parameter,
        LOCAL_SESSION_SECRET,
        "SESSION_SECRET",
        settings,
    )


def page_token_secrets(settings: Settings) -> list[str]:
    """Keys that sign the listing's next_token, oldest first."""
    return _signing_keys(
        settings.page_token_secret,
        settings.page_token_secret_parameter,
        LOCAL_PAGE_TOKEN_SECRET,
        "PAGE_TOKEN_SECRET",
        settings,
    )


def webhook_signing_key(settings: Settings) -> bytes:
    """The HMAC key of the webhook secret (whsec_<base64>): WEBHOOK_SECRET, or SSM in AWS."""
    from app.domain.webhooks import InvalidSecret, secret_key

    raw = _read(settings.webhook_secret, settings.webhook_secret_parameter).strip()
    parameter = settings.webhook_secret_parameter or None
    if not raw:
        raise SecretNotConfigured(
            "no webhook secret: set WEBHOOK_SECRET (whsec_<base64>), or WEBHOOK_SECRET_PARAMETER in AWS",
            parameter,
        )
    try:
        return secret_key(raw)
    except InvalidSecret as exc:
        raise SecretNotConfigured(f"the webhook secret is malformed: {exc}", parameter) from exc


def api_unready(settings: Settings) -> list[SecretNotConfigured]:
    """What keeps the api from serving: each of its secrets it can't read or use. Empty: ready."""
    problems = []
    for read in (api_keys, dashboard_users, session_secrets, page_token_secrets):
        try:
            read(settings)
        except SecretNotConfigured as exc:
            problems.append(exc)
    return problems
