"""Plain Python values ↔ DynamoDB's typed attribute values.

boto3's own serializer wants `Decimal` for every number and gives `Decimal` back; records here are
ints, floats, strings, booleans, None and JSON-like containers, so a small explicit mapping keeps
numbers as numbers both ways.
"""

from __future__ import annotations

from typing import Any

_SMALLEST_NUMBER = 1e-130


def to_attr(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, float) and abs(value) < _SMALLEST_NUMBER:
        # DynamoDB refuses non-zero magnitudes below 1e-130 ("number underflow"); a client's
        # `temperature: 1e-308` is stored as what it means, zero, as IEEE floats underflow too.
        return {"N": "0.0"}
    if isinstance(value, int | float):
        return {"N": repr(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes):
        return {"B": value}
    if isinstance(value, dict):
        return {"M": {str(k): to_attr(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_attr(v) for v in value]}
    raise TypeError(f"cannot store a {type(value).__name__}")


def from_attr(attr: dict[str, Any]) -> Any:
    (kind, value), *_ = attr.items()
    if kind == "S":
        return value
    if kind == "N":
        return int(value) if value.lstrip("-").isdigit() else float(value)
    if kind == "BOOL":
        return bool(value)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_attr(v) for k, v in value.items()}
    if kind == "L":
        return [from_attr(v) for v in value]
    if kind == "B":
        return bytes(value)
    raise TypeError(f"unexpected DynamoDB type {kind}")


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: to_attr(v) for k, v in values.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: from_attr(v) for k, v in item.items()}
