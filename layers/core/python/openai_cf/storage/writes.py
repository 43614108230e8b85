"""What one write or transaction may hold: the operations of `Table.transact`, and the size guard.

DynamoDB refuses an item over 400 KB with a generic validation error after part of a batch may have
happened; checking sizes first turns that into `ItemTooLarge`, before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openai_cf.storage.items import to_attr, to_item

# A cap on how much one item may hold (DynamoDB's item limit is 400 KB).
MAX_ITEM_BYTES = 350_000


class ItemTooLarge(Exception):
    """An item over `MAX_ITEM_BYTES`, refused before anything of the write happened. `index` is its
    place in the write."""

    def __init__(self, index: int = 0) -> None:
        super().__init__(f"item {index} is larger than {MAX_ITEM_BYTES} bytes")
        self.index = index


def item_bytes(value: Any) -> int:
    """At least DynamoDB's size of an item or value (UTF-8 lengths, a number as 21 bytes, containers
    with their overhead): what `MAX_ITEM_BYTES` is checked against."""
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, dict):
        return 3 + sum(item_bytes(k) + item_bytes(v) + 1 for k, v in value.items())
    if isinstance(value, list | tuple):
        return 3 + sum(item_bytes(v) + 1 for v in value)
    return 21 if isinstance(value, int | float) and not isinstance(value, bool) else 1


def check_sizes(items: Sequence[dict[str, Any]]) -> None:
    for index, item in enumerate(items):
        if item_bytes(item) > MAX_ITEM_BYTES:
            raise ItemTooLarge(index)


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


@dataclass(frozen=True)
class Put:
    item: dict[str, Any]
    only_if_new: bool = False


@dataclass(frozen=True)
class Check:
    """A condition item `(pk, sk)` must meet for the write to happen at all (nothing is written to
    it): by default that it exists; or e.g. "the upload is still pending". `names` and `values`
    fill the condition's `#n` and `:v` placeholders (needed for reserved words such as `status`)."""

    pk: str
    sk: str
    condition: str = "attribute_exists(pk)"
    values: Mapping[str, Any] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.pk, self.sk

    def request(self) -> dict[str, Any]:
        request: dict[str, Any] = {"ConditionExpression": self.condition}
        if self.values:
            request["ExpressionAttributeValues"] = {k: to_attr(v) for k, v in self.values.items()}
        if self.names:
            request["ExpressionAttributeNames"] = dict(self.names)
        return request


@dataclass(frozen=True)
class Update:
    """Set `values` on an existing item (and drop the attributes in `remove`), if `condition` holds.

    The condition may name the values' attributes as `#a0`, `#a1`…, or its own `#x` placeholders
    through `names` (needed for reserved words such as `status`)."""

    pk: str
    sk: str
    values: dict[str, Any]
    condition: str | None = None
    condition_values: dict[str, Any] | None = None
    remove: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Delete:
    pk: str
    sk: str


Operation = Put | Check | Update | Delete


def update_request(table: str, op: Update) -> dict[str, Any]:
    names = {f"#a{i}": name for i, name in enumerate(op.values)}
    names.update({f"#r{i}": name for i, name in enumerate(op.remove)})
    names.update(op.names)
    attrs = {f":a{i}": to_attr(value) for i, value in enumerate(op.values.values())}
    attrs.update({k: to_attr(v) for k, v in (op.condition_values or {}).items()})
    clauses = []
    if op.values:
        clauses.append("SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(op.values))))
    if op.remove:
        clauses.append("REMOVE " + ", ".join(f"#r{i}" for i in range(len(op.remove))))
    checks = "attribute_exists(pk)" + (f" AND ({op.condition})" if op.condition else "")
    request = {
        "TableName": table, "Key": key(op.pk, op.sk), "UpdateExpression": " ".join(clauses),
        "ConditionExpression": checks, "ExpressionAttributeNames": names,
    }  # fmt: skip
    # DynamoDB refuses an empty map of values (an update that only removes, on a plain condition).
    return request | ({"ExpressionAttributeValues": attrs} if attrs else {})


def transact_item(table: str, op: Operation) -> dict[str, Any]:
    if isinstance(op, Put):
        put: dict[str, Any] = {"TableName": table, "Item": to_item(op.item)}
        if op.only_if_new:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        return {"Put": put}
    if isinstance(op, Check):
        return {"ConditionCheck": {"TableName": table, "Key": key(op.pk, op.sk), **op.request()}}
    if isinstance(op, Update):
        return {"Update": update_request(table, op)}
    return {"Delete": {"TableName": table, "Key": key(op.pk, op.sk)}}
