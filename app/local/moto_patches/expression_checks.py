"""DynamoDB request checks that parse each distinct expression once, not on every call.

Before it calls the backend, moto's DynamoDB response layer parses every
ConditionExpression, FilterExpression and UpdateExpression only to learn
which ``#name`` and ``:value`` placeholders they use (DynamoDB refuses unused
ones); the backend then parses them again to evaluate them. That first parse
was about a tenth of the emulator's CPU under load, for the same few
expressions over and over.

Here, in ``moto.dynamodb.responses`` only, the placeholders an expression
uses are remembered by its text (and, for conditions, the names and value
keys it was given). A parse that fails is not remembered: it fails every
time, as before. The backend's own parse, which evaluates the expression
with the request's values, is untouched.
"""

from __future__ import annotations

import functools
from typing import Any

# What the patch is for (docs/local.md): correctness, missing feature, memory or speed.
PURPOSE = "speed"

CACHED_EXPRESSIONS = 4096


class CheckedCondition:
    """What moto's response layer reads of a ConditionExpressionParser: parse(), then the placeholders."""

    def __init__(self, expression: str | None, names: dict[str, str] | None, values: dict[str, Any] | None):
        self._key = (expression, tuple(sorted((names or {}).items())), tuple(sorted(values or {})))
        self._values = values
        self.expr_attr_names_found: list[str] = []
        self.expr_attr_values_found: list[str] = []

    def parse(self) -> None:
        names_found, values_found = _condition_placeholders(*self._key, values=self._values)
        self.expr_attr_names_found = list(names_found)
        self.expr_attr_values_found = list(values_found)


def _condition_placeholders(
    expression: str | None, names: tuple[tuple[str, str], ...], value_keys: tuple[str, ...], values: Any
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    key = (expression, names, value_keys)
    found = _remembered.get(key)
    if found is None:
        from moto.dynamodb.comparisons import ConditionExpressionParser

        parser = ConditionExpressionParser(expression, dict(names), values)
        parser.parse()
        found = (tuple(parser.expr_attr_names_found), tuple(parser.expr_attr_values_found))
        if len(_remembered) >= CACHED_EXPRESSIONS:
            _remembered.clear()
        _remembered[key] = found
    return found


_remembered: dict[Any, tuple[tuple[str, ...], tuple[str, ...]]] = {}


class CachedUpdateExpressionParser:
    """UpdateExpressionParser.make, remembered by the text (the response layer only reads the tree)."""

    @staticmethod
    @functools.lru_cache(maxsize=CACHED_EXPRESSIONS)
    def make(expression: str) -> Any:
        from moto.dynamodb.parsing.expressions import UpdateExpressionParser

        return UpdateExpressionParser.make(expression)


def apply() -> None:
    from moto.dynamodb import responses

    responses.create_condition_expression_parser = CheckedCondition  # type: ignore[assignment]
    responses.UpdateExpressionParser = CachedUpdateExpressionParser  # type: ignore[assignment,misc]
