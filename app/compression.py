"""gzip for HTML and JSON where nothing in front of the app compresses: the local server.

In AWS, API Gateway compresses (``provider.apiGateway.minimumCompressionSize``
in serverless.yml). Compressing inside the Lambda as well would make every body
binary, which Mangum then base64-encodes and a REST API passes through to
browsers unless binary media types are configured: so under Mangum (its scope
carries the API Gateway event) responses leave the app uncompressed.
"""

from __future__ import annotations

from typing import Any

# Below this, gzip saves too little to pay for itself (the same threshold as serverless.yml's).
MINIMUM_SIZE = 1024


class CompressionMiddleware:
    def __init__(self, app: Any):
        from starlette.middleware.gzip import GZipMiddleware

        self.app = app
        # Level 6: nearly level 9's ratio on HTML and JSON at a fraction of its CPU.
        self.gzip = GZipMiddleware(app, minimum_size=MINIMUM_SIZE, compresslevel=6)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or "aws.event" in scope:
            await self.app(scope, receive, send)
            return
        await self.gzip(scope, receive, send)
