"""Synthesise a small JSON instance that satisfies a JSON Schema (for JSON mode and tool arguments).

This is part of a development and test double, not Workers AI. Rules: object -> every property,
string -> "example" (or `const` / first `enum` / a value fitting a known `format`), integer -> 1,
number -> 1.5 (both nudged into `minimum`/`maximum`), boolean -> true, array -> `minItems` (at least one)
items, null -> null, `anyOf`/`oneOf` -> first branch, `allOf` -> merged, local `$ref` resolved.
"""

from __future__ import annotations

import copy
from typing import Any

DEFAULT_OBJECT: dict[str, Any] = {"answer": "example"}

_MAX_DEPTH = 12

_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def synthesise(schema: Any, *, fallback: Any = DEFAULT_OBJECT) -> Any:
    """An instance of `schema`; a copy of `fallback` when `schema` is missing or says nothing useful."""
    if not isinstance(schema, dict) or not _informative(schema):
        return copy.deepcopy(fallback)
    return _instance(schema, schema, 0)


def _informative(schema: dict[str, Any]) -> bool:
    keys = {"properties", "items", "anyOf", "oneOf", "allOf", "$ref", "enum", "const"}
    return bool(keys & set(schema)) or schema.get("type") not in (None, "object")


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    if not ref.startswith("#"):
        return {}
    node: Any = root
    for part in ref.lstrip("#").strip("/").split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _merge(schemas: list[Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in schemas:
        if not isinstance(part, dict):
            continue
        properties = {**(merged.get("properties") or {}), **(part.get("properties") or {})}
        merged = {**merged, **part, "properties": properties}
    merged.pop("allOf", None)
    return merged


def _instance(schema: dict[str, Any], root: dict[str, Any], depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return None
    if "$ref" in schema:
        return _instance({**_resolve(schema["$ref"], root), **_without(schema, "$ref")}, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return _instance({**_without(schema, key), **schema[key][0]}, root, depth + 1)
    if schema.get("allOf"):
        return _instance(_merge([_without(schema, "allOf"), *schema["allOf"]]), root, depth + 1)
    return _typed(schema, root, depth)


def _without(schema: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != key}


def _type_of(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if isinstance(kind, str):
        return kind
    if "properties" in schema:
        return "object"
    return "array" if "items" in schema else "string"


def _typed(schema: dict[str, Any], root: dict[str, Any], depth: int) -> Any:
    kind = _type_of(schema)
    if kind == "object":
        properties = schema.get("properties") or {}
        return {name: _instance(sub, root, depth + 1) for name, sub in properties.items() if isinstance(sub, dict)}
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        count = max(1, int(schema.get("minItems") or 0))
        return [_instance(items or {"type": "string"}, root, depth + 1) for _ in range(count)]
    if kind in ("integer", "number"):
        return _bounded(1 if kind == "integer" else 1.5, schema)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema)


def _bounded(value: float, schema: dict[str, Any]) -> float:
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(low, int | float) and value < low:
        value = low
    if isinstance(high, int | float) and value > high:
        value = high
    return value


def _string(schema: dict[str, Any]) -> str:
    text = _FORMATS.get(str(schema.get("format")), "example")
    min_length = schema.get("minLength")
    if isinstance(min_length, int) and len(text) < min_length:
        text = text + "x" * (min_length - len(text))
    max_length = schema.get("maxLength")
    if isinstance(max_length, int) and len(text) > max_length:
        text = text[:max_length]
    return text
