"""Idempotency records as items of the tasks table.

  pk=IDEMPOTENCY#<hash of API key and Idempotency-Key>  sk=IDEMPOTENCY

They carry no index attributes (they stay out of every listing) and a
``ttl`` 24 hours on, after which DynamoDB removes them; until it does, an
expired record counts as absent (the conditions below say so).
"""

from __future__ import annotations

import json
from typing import Any

from app.domain.idempotency import IdempotencyRecord, StoredResponse

PREFIX = "IDEMPOTENCY#"
SORT_KEY = "IDEMPOTENCY"


def record_key(scope: str) -> dict[str, Any]:
    return {"pk": {"S": PREFIX + scope}, "sk": {"S": SORT_KEY}}


def to_item(record: IdempotencyRecord) -> dict[str, Any]:
    item = {
        **record_key(record.scope),
        "fingerprint": {"S": record.fingerprint},
        "status_code": {"N": str(record.response.status_code)},
        "body": {"S": json.dumps(record.response.body, separators=(",", ":"))},
        "ttl": {"N": str(record.expires)},
    }
    if record.response.location:
        item["location"] = {"S": record.response.location}
    return item


def from_item(item: dict[str, Any]) -> IdempotencyRecord:
    return IdempotencyRecord(
        scope=item["pk"]["S"].removeprefix(PREFIX),
        fingerprint=item["fingerprint"]["S"],
        response=StoredResponse(
            status_code=int(item["status_code"]["N"]),
            body=json.loads(item["body"]["S"]),
            location=item.get("location", {}).get("S"),
        ),
        expires=int(item["ttl"]["N"]),
    )


def put_if_absent(table_name: str, record: IdempotencyRecord, now: float) -> dict[str, Any]:
    """A Put of the record that fails while an unexpired record holds its key (returning that one)."""
    return {
        "TableName": table_name,
        "Item": to_item(record),
        "ConditionExpression": "attribute_not_exists(pk) OR #ttl <= :now",
        "ExpressionAttributeNames": {"#ttl": "ttl"},
        "ExpressionAttributeValues": {":now": {"N": str(int(now))}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
