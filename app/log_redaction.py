"""What never reaches a log, at any level: secrets in the Lambda events the api logs at debug.

Masked in REST (v1) and HTTP API (v2) events alike: the headers that carry
keys, cookies or tokens (single and multi-value), v2's ``cookies`` list, API
Gateway's own API key, and the whole body of a form (the sign-in form's
password, every form's CSRF token) or of any request to the sign-in route,
base64-encoded or not.
"""

from __future__ import annotations

from typing import Any

MASK = "***"
SECRET_HEADERS = frozenset(
    {
        "x-api-key",
        "cookie",
        "set-cookie",
        "authorization",
        "proxy-authorization",
        "x-csrf-token",
        "x-amz-security-token",
    }
)
SIGN_IN_PATH_SUFFIX = "/dashboard/login"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def redacted_event(event: Any) -> Any:
    """A copy of ``event`` that is safe to log; the event itself is left as it is."""
    if not isinstance(event, dict):
        return event
    cleaned = dict(event)
    content_type = ""
    for key in ("headers", "multiValueHeaders"):
        headers = cleaned.get(key)
        if isinstance(headers, dict):
            cleaned[key] = {name: _masked_header(name, value) for name, value in headers.items()}
            content_type = content_type or str(_header(headers, "content-type"))
    if isinstance(cleaned.get("cookies"), list):
        cleaned["cookies"] = [MASK for _ in cleaned["cookies"]]
    context = cleaned.get("requestContext")
    if isinstance(context, dict) and isinstance(context.get("identity"), dict):
        identity = dict(context["identity"])
        for name in ("apiKey", "apiKeyId"):
            if identity.get(name):
                identity[name] = MASK
        cleaned["requestContext"] = {**context, "identity": identity}
    if cleaned.get("body") and (_is_sign_in(cleaned) or content_type.lower().startswith(FORM_TYPES)):
        cleaned["body"] = MASK
    return cleaned


def _masked_header(name: str, value: Any) -> Any:
    if name.lower() not in SECRET_HEADERS:
        return value
    return [MASK for _ in value] if isinstance(value, list) else MASK


def _header(headers: dict[str, Any], wanted: str) -> Any:
    for name, value in headers.items():
        if name.lower() == wanted:
            return value[0] if isinstance(value, list) and value else value
    return ""


def _is_sign_in(event: dict[str, Any]) -> bool:
    context = event.get("requestContext") if isinstance(event.get("requestContext"), dict) else {}
    http = context.get("http") if isinstance(context.get("http"), dict) else {}
    paths = (event.get("path"), event.get("rawPath"), context.get("path"), http.get("path"))
    return any(isinstance(path, str) and path.rstrip("/").endswith(SIGN_IN_PATH_SUFFIX) for path in paths)
