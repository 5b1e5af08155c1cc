"""Sign-in state in the tasks table: failure counters and open sessions, shared by every Lambda instance.

  failure counter  pk=SIGNIN#<user#hash | client#address>  sk=WINDOW#<n>   failures, ttl
  session          pk=SESSION#<sha256 of the session id>   sk=SESSION      user, created_time,
                                                                           ttl, revoked_time
They carry none of the listing indexes' attributes (so no GSI holds them), and
the stream's filter passes task items only, so they never reach the publisher.
Both expire through the table's TTL on ``ttl``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from app.adapters import aws
from app.domain.sign_in import Counter

SESSION_SK = "SESSION"


class SignInRecords(aws.DynamoDBTable):
    def take(self, counter: Counter) -> bool:
        """Count one attempt, atomically, unless the counter is at its limit (then False)."""
        try:
            self._call(
                "update_item",
                TableName=self.table_name,
                Key=self._counter_key(counter),
                UpdateExpression="ADD failures :one SET #ttl = :ttl",
                ConditionExpression="attribute_not_exists(failures) OR failures < :limit",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(counter.limit)},
                    ":ttl": {"N": str(counter.expires)},
                },
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def give_back(self, counter: Counter) -> None:
        """Uncount an attempt that succeeded: only failures stay counted."""
        with contextlib.suppress(self.dynamodb.exceptions.ConditionalCheckFailedException):
            self._call(
                "update_item",
                TableName=self.table_name,
                Key=self._counter_key(counter),
                UpdateExpression="ADD failures :minus_one",
                ConditionExpression="failures > :zero",
                ExpressionAttributeValues={":minus_one": {"N": "-1"}, ":zero": {"N": "0"}},
            )

    def open_session(self, key: str, user: str, now: float, expires: int) -> None:
        self._call(
            "put_item",
            TableName=self.table_name,
            Item={
                **self._session_key(key),
                "user": {"S": user},
                "created_time": {"N": str(int(now))},
                "ttl": {"N": str(expires)},
            },
        )

    def session_is_open(self, key: str, user: str, now: float) -> bool:
        item = self._call(
            "get_item", TableName=self.table_name, Key=self._session_key(key), ConsistentRead=True
        ).get("Item")
        return bool(
            item
            and item.get("user", {}).get("S") == user
            and "revoked_time" not in item
            # DynamoDB's TTL deletes within days, not at once: the expiry is checked here.
            and int(item["ttl"]["N"]) > now
        )

    def close_session(self, key: str, now: float) -> None:
        # Never opened, or expired and deleted: closed either way.
        with contextlib.suppress(self.dynamodb.exceptions.ConditionalCheckFailedException):
            self._call(
                "update_item",
                TableName=self.table_name,
                Key=self._session_key(key),
                UpdateExpression="SET revoked_time = :now",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":now": {"N": str(int(now))}},
            )

    @staticmethod
    def _counter_key(counter: Counter) -> dict[str, Any]:
        return {"pk": {"S": f"SIGNIN#{counter.key}"}, "sk": {"S": f"WINDOW#{counter.window}"}}

    @staticmethod
    def _session_key(key: str) -> dict[str, Any]:
        return {"pk": {"S": f"SESSION#{key}"}, "sk": {"S": SESSION_SK}}
