"""What a role allows, what a function needs, and the two compared."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Grant:
    """One action on one resource pattern, as one statement of a role allows it."""

    role: str
    action: str
    resource: str
    # How serverless.yml names the resource (e.g. "!GetAtt TasksTable.Arn"), for messages.
    declared: str


@dataclass(frozen=True)
class Need:
    """One action on one resource that the function, or Lambda on its behalf, performs."""

    action: str
    resource: str
    why: str


@lru_cache(maxsize=4096)
def _pattern(text: str, ignore_case: bool) -> re.Pattern[str]:
    # IAM's wildcards: * any run of characters (":" and "/" included), ? exactly one.
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """IAM actions compare without regard to case."""
    return _pattern(pattern, True).fullmatch(action) is not None


def resource_matches(pattern: str, arn: str) -> bool:
    """Resource ARNs compare case-sensitively."""
    return _pattern(pattern, False).fullmatch(arn) is not None


def allows(grant: Grant, need: Need) -> bool:
    return action_matches(grant.action, need.action) and resource_matches(grant.resource, need.resource)


def audit(function: str, grants: list[Grant], needs: list[Need]) -> list[str]:
    """Every permission ``function`` needs that its role lacks, and every one it has and never uses."""
    problems = []
    missing: dict[tuple[str, str], list[str]] = {}
    for need in needs:
        if not any(allows(grant, need) for grant in grants):
            missing.setdefault((need.action, need.resource), []).append(need.why)
    role = ", ".join(sorted({grant.role for grant in grants})) or "its role"
    for (action, resource), reasons in sorted(missing.items()):
        problems.append(
            f"{function}: missing {action} on {resource} in {role} "
            f"(needed by {'; '.join(sorted(set(reasons)))})"
        )
    for grant in grants:
        if not any(allows(grant, need) for need in needs):
            problems.append(
                f"{function}: unused {grant.action} on {grant.declared} ({grant.resource}) "
                f"in {grant.role}: no scenario of the function needs it"
            )
    return problems
