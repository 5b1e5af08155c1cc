"""A DynamoDB UpdateExpression and ConditionExpression, built from named actions.

Every attribute name and value goes through a placeholder (``#n0``, ``:v0``), so
reserved words (``status``, ``ttl``, ``result``) and any value are safe, and the
expression is made in one place instead of by string concatenation at each
write. Pure: no I/O.

    update = Update().set("status", {"S": "DONE"}).remove("retry_at")
    update.condition("#n0 = :v1", ...)  # or the helpers below
    client.update_item(**update.arguments(), ...)
"""

from __future__ import annotations

from typing import Any


class Update:
    def __init__(self) -> None:
        self._set: list[str] = []
        self._remove: list[str] = []
        self._add: list[str] = []
        self._conditions: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    # --- placeholders -------------------------------------------------------------------

    def name(self, attribute: str) -> str:
        """The placeholder of an attribute name (one per name, however often it is used)."""
        for placeholder, known in self.names.items():
            if known == attribute:
                return placeholder
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: dict[str, Any]) -> str:
        """The placeholder of a value, in DynamoDB's attribute-value form ({"S": ...}, {"N": ...})."""
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    # --- actions ------------------------------------------------------------------------

    def set(self, attribute: str, value: dict[str, Any]) -> Update:
        self._set.append(f"{self.name(attribute)} = {self.value(value)}")
        return self

    def set_all(self, attributes: dict[str, dict[str, Any]]) -> Update:
        for attribute, value in attributes.items():
            self.set(attribute, value)
        return self

    def set_if_absent(self, attribute: str, value: dict[str, Any]) -> Update:
        """Set it unless the item has it already (``if_not_exists``)."""
        name = self.name(attribute)
        self._set.append(f"{name} = if_not_exists({name}, {self.value(value)})")
        return self

    def append(self, attribute: str, values: list[dict[str, Any]]) -> Update:
        """Add ``values`` at the end of a list attribute, made empty first if the item has none."""
        name = self.name(attribute)
        empty, added = self.value({"L": []}), self.value({"L": values})
        self._set.append(f"{name} = list_append(if_not_exists({name}, {empty}), {added})")
        return self

    def remove(self, *attributes: str) -> Update:
        self._remove += [self.name(attribute) for attribute in attributes]
        return self

    def add(self, attribute: str, number: int) -> Update:
        self._add.append(f"{self.name(attribute)} {self.value({'N': str(number)})}")
        return self

    # --- conditions (all must hold) -------------------------------------------------------

    def require_equal(self, attribute: str, value: dict[str, Any]) -> Update:
        self._conditions.append(f"{self.name(attribute)} = {self.value(value)}")
        return self

    def require_absent(self, attribute: str) -> Update:
        self._conditions.append(f"attribute_not_exists({self.name(attribute)})")
        return self

    def require_absent_or_equal(self, attribute: str, value: dict[str, Any]) -> Update:
        name = self.name(attribute)
        self._conditions.append(f"(attribute_not_exists({name}) OR {name} = {self.value(value)})")
        return self

    # --- the result -----------------------------------------------------------------------

    @property
    def expression(self) -> str:
        clauses = [
            f"{verb} {', '.join(actions)}"
            for verb, actions in (("SET", self._set), ("REMOVE", self._remove), ("ADD", self._add))
            if actions
        ]
        if not clauses:
            raise ValueError("an update with no action")
        return " ".join(clauses)

    @property
    def condition(self) -> str | None:
        return " AND ".join(self._conditions) or None

    def arguments(self) -> dict[str, Any]:
        """UpdateExpression, ConditionExpression (if any) and the placeholders, for update_item."""
        arguments: dict[str, Any] = {
            "UpdateExpression": self.expression,
            "ExpressionAttributeNames": self.names,
        }
        if self.values:  # DynamoDB refuses an empty map (a REMOVE-only update has no value)
            arguments["ExpressionAttributeValues"] = self.values
        if self.condition:
            arguments["ConditionExpression"] = self.condition
        return arguments
