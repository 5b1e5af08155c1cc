"""Secrets: from the environment locally, from SSM Parameter Store in AWS."""

from __future__ import annotations

from app.settings import Settings

_SECRET_MAX_AGE_SECONDS = 300


def api_keys(settings: Settings) -> frozenset[str]:
    raw = settings.api_keys
    if settings.api_keys_parameter:
        from aws_lambda_powertools.utilities import parameters

        raw = parameters.get_parameter(
            settings.api_keys_parameter, decrypt=True, max_age=_SECRET_MAX_AGE_SECONDS
        )
    return frozenset(key.strip() for key in raw.split(",") if key.strip())
