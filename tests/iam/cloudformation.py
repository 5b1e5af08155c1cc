"""CloudFormation's intrinsic functions, evaluated against the resources of one stage.

Enough of them for what IAM statements use (Ref, Fn::GetAtt, Fn::Sub, Fn::Join,
Fn::If and the conditions behind it, the pseudo parameters). Anything this
cannot resolve is an error naming it, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

NO_VALUE = object()  # AWS::NoValue: the property or list entry is left out
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class Unresolvable(ValueError):
    pass


@dataclass(frozen=True)
class Deployment:
    """What CloudFormation knows when it resolves the template for one stage."""

    region: str
    account: str
    # logical id -> {"Ref": value, "<attribute>": value, ...}
    attributes: dict[str, dict[str, str]]
    parameters: dict[str, str] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    partition: str = "aws"

    def with_parameters(self, **values: str) -> Deployment:
        return Deployment(
            self.region,
            self.account,
            self.attributes,
            {**self.parameters, **values},
            self.conditions,
            self.partition,
        )

    def pseudo(self, name: str) -> Any:
        known = {
            "AWS::Partition": self.partition,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        if name not in known:
            raise Unresolvable(f"pseudo parameter {name}")
        return known[name]

    def ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        return self.attribute(name, "Ref")

    def attribute(self, logical_id: str, name: str) -> str:
        try:
            return self.attributes[logical_id][name]
        except KeyError:
            what = f"!Ref {logical_id}" if name == "Ref" else f"!GetAtt {logical_id}.{name}"
            raise Unresolvable(f"{what}: no such resource or attribute in this stage") from None

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise Unresolvable(f"condition {name}")
        return bool(evaluate(self.conditions[name], self))


def evaluate(node: Any, deployment: Deployment) -> Any:
    """``node`` with every intrinsic function replaced by its value."""
    if isinstance(node, list):
        values = [evaluate(item, deployment) for item in node]
        return [value for value in values if value is not NO_VALUE]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((name, argument),) = node.items()
        function = _FUNCTIONS.get(name)
        if function is not None:
            return function(argument, deployment)
    values = {key: evaluate(value, deployment) for key, value in node.items()}
    return {key: value for key, value in values.items() if value is not NO_VALUE}


def _get_att(argument: Any, deployment: Deployment) -> str:
    logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
    return deployment.attribute(logical_id, attribute)


def _sub(argument: Any, deployment: Deployment) -> str:
    text, variables = (argument, {}) if isinstance(argument, str) else argument
    variables = {name: evaluate(value, deployment) for name, value in variables.items()}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            return str(variables[name])
        if "." in name:
            return _get_att(name, deployment)
        return str(deployment.ref(name))

    return _SUB_VARIABLE.sub(value, text)


def _join(argument: Any, deployment: Deployment) -> str:
    separator, parts = argument
    return separator.join(str(part) for part in evaluate(parts, deployment))


def _if(argument: Any, deployment: Deployment) -> Any:
    condition, when_true, when_false = argument
    return evaluate(when_true if deployment.condition(condition) else when_false, deployment)


_FUNCTIONS = {
    "Ref": lambda name, deployment: deployment.ref(name),
    "Fn::GetAtt": _get_att,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::If": _if,
    "Condition": lambda name, deployment: deployment.condition(name),
    "Fn::Equals": lambda pair, deployment: evaluate(pair[0], deployment) == evaluate(pair[1], deployment),
    "Fn::Not": lambda operand, deployment: not evaluate(operand[0], deployment),
    "Fn::And": lambda operands, deployment: all(evaluate(o, deployment) for o in operands),
    "Fn::Or": lambda operands, deployment: any(evaluate(o, deployment) for o in operands),
}


def describe(node: Any) -> str:
    """A CloudFormation expression as serverless.yml writes it, for messages."""
    if isinstance(node, dict) and len(node) == 1:
        ((name, argument),) = node.items()
        if name == "Ref":
            return f"!Ref {argument}"
        if name == "Fn::GetAtt":
            return "!GetAtt " + (".".join(argument) if isinstance(argument, list) else argument)
        if name == "Fn::Sub":
            return f"!Sub {argument if isinstance(argument, str) else argument[0]!r}"
        if name == "Fn::Join":
            parts = ", ".join(
                describe(part) if isinstance(part, dict) else repr(part) for part in argument[1]
            )
            return f"!Join [{argument[0]!r}, [{parts}]]"
    return str(node)
