"""boto3 clients, created on first use (cold start) and shared (they are thread-safe).

Every client honours AWS_ENDPOINT_URL, which is how the local runtime and the
tests point the same code at the embedded emulator.
"""

from __future__ import annotations

import threading
from typing import Any

_clients: dict[str, Any] = {}
# DynamoDB's most keys a BatchGetItem and requests a BatchWriteItem take.
BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
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

    def batch_get(self, keys: list[dict[str, Any]], **options: Any) -> list[dict[str, Any]]:
        """The items of ``keys`` that exist, 100 keys a BatchGetItem; ``options`` go with each request."""
        import time

        from app.domain.errors import StoreUnavailable

        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            pending: dict[str, Any] = {
                self.table_name: {"Keys": keys[start : start + BATCH_GET_LIMIT], **options}
            }
            for retry in range(5):  # unprocessed keys were throttled: ask again, after a pause
                response = self._call("batch_get_item", RequestItems=pending)
                items.extend(response.get("Responses", {}).get(self.table_name, []))
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    break
                time.sleep(0.05 * 2**retry)
            else:
                raise StoreUnavailable("DynamoDB kept keys unprocessed")
        return items

    def batch_write(self, requests: list[dict[str, Any]], what: str = "items", at_once: int = 1) -> None:
        """Puts and deletes (BatchWriteItem requests), 25 a call, ``at_once`` calls at a time, each sent
        again while throttled."""
        import time
        from concurrent.futures import ThreadPoolExecutor

        from app.domain.errors import StoreUnavailable

        def write(chunk: list[dict[str, Any]]) -> None:
            pending = {self.table_name: chunk}
            for retry in range(5):  # unprocessed items were throttled: send them again, after a pause
                pending = self._call("batch_write_item", RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    return
                time.sleep(0.05 * 2**retry)
            raise StoreUnavailable(f"DynamoDB kept {what} unprocessed")

        chunks = [
            requests[start : start + BATCH_WRITE_LIMIT]
            for start in range(0, len(requests), BATCH_WRITE_LIMIT)
        ]
        if at_once <= 1 or len(chunks) <= 1:
            for chunk in chunks:
                write(chunk)
            return
        with ThreadPoolExecutor(max_workers=min(at_once, len(chunks))) as pool:
            list(pool.map(write, chunks))  # the first failure is raised here
