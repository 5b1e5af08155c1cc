"""All configuration, from environment variables with safe local defaults."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_API_KEY = "local-dev-key"
# Dashboard sign-in on a laptop: documented in docs/dashboard.md, refused
# outside the local stage (see app/adapters/secrets.py).
LOCAL_DASHBOARD_USERS = "admin:admin"
LOCAL_SESSION_SECRET = "local-dev-session-secret-not-for-deployed-stages"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    # "local" for the laptop runtime and tests; a deployed stage otherwise.
    stage: str = "local"
    table_name: str = "async-app-local-tasks"
    topic_arn: str = ""
    # Comma-separated keys accepted in x-api-key. In AWS, api_keys_parameter
    # names an SSM SecureString read at run time, so no key is in the template.
    api_keys: str = LOCAL_API_KEY
    api_keys_parameter: str = ""
    # The prefix API Gateway puts before every path (its stage, e.g. "/dev").
    root_path: str = ""
    max_data_bytes: int = 64 * 1024
    default_ttl_seconds: int = 7 * 24 * 3600

    # Dashboard sign-in: comma-separated "user:password" pairs, and the key
    # that signs session cookies (comma-separated, oldest first, to rotate).
    # In AWS both come from SSM SecureStrings named by the *_parameter fields.
    dashboard_users: str = LOCAL_DASHBOARD_USERS
    dashboard_users_parameter: str = ""
    session_secret: str = LOCAL_SESSION_SECRET
    session_secret_parameter: str = ""
    session_max_age_seconds: int = 8 * 3600

    @property
    def is_local(self) -> bool:
        return self.stage == "local"


@lru_cache
def get_settings() -> Settings:
    return Settings()
