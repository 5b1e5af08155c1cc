"""Where the service is and which key to send: arguments first, then the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from async_app_client.errors import ConfigurationError

URL_VARIABLE = "ASYNC_APP_URL"
API_KEY_VARIABLE = "ASYNC_APP_API_KEY"
# What `make run` serves.
DEFAULT_URL = "http://127.0.0.1:8000"
USER_AGENT = "async-app-client"


@dataclass(frozen=True)
class Connection:
    base_url: str
    api_key: str = ""

    @classmethod
    def resolve(
        cls, base_url: str | None = None, api_key: str | None = None, env: Mapping[str, str] | None = None
    ) -> Connection:
        env = os.environ if env is None else env
        url = base_url or env.get(URL_VARIABLE) or DEFAULT_URL
        key = api_key or env.get(API_KEY_VARIABLE)
        if not key:
            raise ConfigurationError(f"no API key: pass one (api_key=, --api-key) or set {API_KEY_VARIABLE}")
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"the base URL must start with http:// or https://, not {url!r}")
        return cls(url.rstrip("/"), key)

    def httpx_options(self) -> dict[str, Any]:
        """Keyword arguments for httpx.Client / AsyncClient. A stage prefix in the URL ("/dev") is kept."""
        return {
            "base_url": self.base_url,
            "headers": {"x-api-key": self.api_key, "user-agent": USER_AGENT, "accept": "application/json"},
        }
