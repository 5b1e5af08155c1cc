"""API-key authentication for the JSON routes.

An ASGI middleware rather than a dependency, so that an unauthenticated
request is refused before its body is parsed or validated.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from starlette.responses import JSONResponse

from app.adapters import secrets
from app.api.errors import error_body, not_configured_response
from app.settings import Settings

PROTECTED_PREFIX = "/tasks"
# The API's description is for its clients only.
PROTECTED_PATHS = frozenset({"/openapi.json"})
logger = logging.getLogger(__name__)


def is_valid_key(presented: str | None, settings: Settings) -> bool:
    if not presented:
        return False
    # Compare against every key, so timing reveals neither which key nor a prefix.
    matches = [hmac.compare_digest(presented.encode(), key.encode()) for key in secrets.api_keys(settings)]
    return any(matches)


ONE_KEY_ONLY = "Send one x-api-key header, with one key"


def presented_key(scope: dict[str, Any]) -> str | None:
    """The one key the request presents ("" for none); None when it presents more than one.

    Two headers, or one holding two keys joined by a comma (how API Gateway's
    HTTP APIs pass a repeated header; no key has a comma: API_KEYS is a comma-separated
    list), would let one key authenticate and another be taken for the caller
    elsewhere (its fingerprint on the timeline, the Idempotency-Key's scope).
    """
    values = [value for name, value in scope.get("headers") or [] if name.lower() == b"x-api-key"]
    if len(values) > 1 or (values and b"," in values[0]):
        return None
    return values[0].decode("latin-1") if values else ""


class ApiKeyMiddleware:
    def __init__(self, app: Any, settings: Settings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self._is_protected(scope):
            presented = presented_key(scope)
            try:
                valid = presented is not None and is_valid_key(presented, self.settings)
            except secrets.SecretNotConfigured as exc:
                logger.exception("API keys are not configured", extra={"parameter": exc.parameter})
                await not_configured_response(exc)(scope, receive, send)
                return
            if not valid:
                message = "Missing or invalid x-api-key header" if presented is not None else ONE_KEY_ONLY
                response = JSONResponse(error_body("unauthorized", message), status_code=401)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _is_protected(scope: dict[str, Any]) -> bool:
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        return path == PROTECTED_PREFIX or path.startswith(PROTECTED_PREFIX + "/") or path in PROTECTED_PATHS
