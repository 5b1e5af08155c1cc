"""Lambda event filtering (EventBridge pattern syntax), as the Lambda service applies it.

Covers what Lambda's filter criteria accept: exact values, prefix, suffix,
anything-but, exists, numeric ranges and equals-ignore-case, nested objects,
and a list of patterns that match when any one does.
"""

from __future__ import annotations

import operator
from typing import Any

_MISSING = object()
_NUMERIC = {"<": operator.lt, "<=": operator.le, "=": operator.eq, ">=": operator.ge, ">": operator.gt}


def matches_any(patterns: list[dict[str, Any]], event: dict[str, Any]) -> bool:
    """True when there are no patterns or ``event`` matches one of them."""
    return not patterns or any(matches(pattern, event) for pattern in patterns)


def matches(pattern: dict[str, Any], event: Any) -> bool:
    for key, expected in pattern.items():
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(expected, dict):
            if not isinstance(value, dict) or not matches(expected, value):
                return False
        elif isinstance(expected, list):
            if not _field_matches(expected, value):
                return False
        else:
            raise ValueError(f"pattern values must be lists or objects, got {expected!r} for {key!r}")
    return True


def _field_matches(rules: list[Any], value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(_rule_matches(rule, candidate) for rule in rules for candidate in values)


def _rule_matches(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        return value is not _MISSING and value == rule and type(value) is type(rule)
    ((kind, argument),) = rule.items()
    if kind == "exists":
        return (value is not _MISSING) == bool(argument)
    if value is _MISSING:
        return False
    if kind == "prefix":
        return isinstance(value, str) and value.startswith(argument)
    if kind == "suffix":
        return isinstance(value, str) and value.endswith(argument)
    if kind == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == argument.lower()
    if kind == "anything-but":
        excluded = argument if isinstance(argument, list) else [argument]
        if excluded and isinstance(excluded[0], dict):
            return not any(_rule_matches(inner, value) for inner in excluded)
        return value not in excluded
    if kind == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        pairs = zip(argument[::2], argument[1::2], strict=True)
        return all(_NUMERIC[op](value, bound) for op, bound in pairs)
    raise ValueError(f"unsupported filter rule {rule!r}")
