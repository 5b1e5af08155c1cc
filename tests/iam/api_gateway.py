"""An httpx transport that is API Gateway (REST API, Lambda proxy) in front of a Lambda handler.

Each request becomes the proxy event API Gateway would send for the stage in
the URL's first path segment, and the handler's answer becomes the response:
an httpx.Client over it keeps cookies, follows nothing on its own and reads
like any HTTP test, while the code that runs is the deployed handler.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx

from app.local.lambda_events import LambdaContext

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class ApiGatewayTransport(httpx.BaseTransport):
    def __init__(self, handler: Handler, function_name: str, region: str, source_ip: str = "198.51.100.20"):
        self.handler = handler
        self.function_name = function_name
        self.region = region
        self.source_ip = source_ip

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.handler(self.event(request), LambdaContext(self.function_name, 10, self.region))
        headers = list(response.get("headers", {}).items())
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers += [(name, value) for value in values]
        body = response.get("body") or ""
        content = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
        return httpx.Response(response["statusCode"], headers=headers, content=content, request=request)

    def event(self, request: httpx.Request) -> dict[str, Any]:
        stage, _, path = request.url.path.lstrip("/").partition("/")
        headers: dict[str, list[str]] = {}
        for name, value in request.headers.multi_items():
            headers.setdefault(name, []).append(value)
        query = parse_qs(request.url.query.decode(), keep_blank_values=True)
        body = request.read()
        text = body.decode("utf-8", errors="strict") if body else None
        return {
            "resource": "/{proxy+}" if path else "/",
            "path": f"/{path}",
            "httpMethod": request.method,
            "headers": {name: values[-1] for name, values in headers.items()},
            "multiValueHeaders": headers,
            "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": {"proxy": path} if path else None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": "/{proxy+}" if path else "/",
                "httpMethod": request.method,
                "path": request.url.path,
                "stage": stage,
                "requestId": str(uuid.uuid4()),
                "identity": {"sourceIp": self.source_ip, "userAgent": request.headers.get("user-agent")},
                "domainName": request.url.host,
                "apiId": request.url.host.split(".", 1)[0],
            },
            "body": text,
            "isBase64Encoded": False,
        }
