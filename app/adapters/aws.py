"""boto3 clients, created on first use (cold start) and shared (they are thread-safe).

Every client honours AWS_ENDPOINT_URL, which is how the local runtime and the
tests point the same code at the embedded emulator.
"""

from __future__ import annotations

import threading
from typing import Any

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    found = _clients.get(service)
    if found is not None:
        return found
    # boto3's default session is not thread-safe while it builds a client.
    with _lock:
        if service not in _clients:
            import boto3
            from botocore.config import Config

            _clients[service] = boto3.client(
                service, config=Config(retries={"mode": "standard", "max_attempts": 3})
            )
        return _clients[service]


def reset_clients() -> None:
    """Forget cached clients (the local runtime and tests repoint the endpoint)."""
    with _lock:
        _clients.clear()


class DynamoDBTable:
    """Base of the adapters over one table: its name, and a client made on first use (or given)."""

    def __init__(self, table_name: str, dynamodb: Any = None):
        self.table_name = table_name
        self._dynamodb = dynamodb

    @property
    def dynamodb(self) -> Any:
        if self._dynamodb is None:
            self._dynamodb = client("dynamodb")
        return self._dynamodb

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """A DynamoDB call; failures other than a lost condition become StoreUnavailable."""
        from botocore.exceptions import BotoCoreError, ClientError

        from app.domain.errors import StoreUnavailable

        try:
            return getattr(self.dynamodb, operation)(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise
            raise StoreUnavailable(f"DynamoDB {operation} failed: {exc.response['Error']['Code']}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB {operation} failed: {exc}") from exc
