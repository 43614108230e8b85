"""The shape of JSON Schemas clients send: tool `function.parameters`, `response_format` schemas.

We never evaluate these schemas, but we read them (classic models need every parameter typed and
described, see `services.chat_payload`) and forward them upstream, so `properties: [1]` or
`anyOf: 5` must be a 400 naming that key, never a crash further in. This checks what the value of
each structural keyword must look like, and bounds nesting and size, in one walk over all of a
request's schemas. It is not a meta-schema validation: unknown keywords and the values of
annotations pass untouched (`jsonschema` would do more, but the functions do not ship it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from openai_cf.schemas.common import invalid_at

# Ours. OpenAI's strict mode allows 10 levels of objects (an object and its property are two
# schema levels) and 5,000 properties per schema; otherwise it states no bounds. The walk itself
# costs about a microsecond per subschema.
MAX_DEPTH = 64
MAX_SUBSCHEMAS = 50_000  # per request: all tools, functions and the response_format together

Path = tuple[int | str, ...]


class _Invalid(Exception):
    """A misshapen keyword. The path to it is collected from the inside out as the walk unwinds."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path: list[int | str] = []


class _Walk:
    def __init__(self) -> None:
        self.budget = MAX_SUBSCHEMAS

    def schema(self, node: Any, depth: int) -> None:
        if isinstance(node, bool):
            return
        if not isinstance(node, dict):
            raise _Invalid("must be a JSON Schema: an object or a boolean")
        self.budget -= 1
        if self.budget < 0:
            raise _Invalid(f"the JSON Schemas of one request may hold at most {MAX_SUBSCHEMAS} subschemas")
        if depth > MAX_DEPTH:
            raise _Invalid(f"JSON Schemas may nest at most {MAX_DEPTH} levels deep")
        for key, value in node.items():
            check = _KEYWORDS.get(key)
            if check is None:
                continue
            try:
                check(self, value, depth + 1)
            except _Invalid as exc:
                exc.path.append(key)
                raise


def _schema_map(walk: _Walk, value: Any, depth: int) -> None:
    if not isinstance(value, dict):
        raise _Invalid("must be an object whose values are JSON Schemas")
    for name, schema in value.items():
        try:
            walk.schema(schema, depth)
        except _Invalid as exc:
            exc.path.append(name)
            raise


def _schema_list(walk: _Walk, value: Any, depth: int) -> None:
    if not isinstance(value, list):
        raise _Invalid("must be an array of JSON Schemas")
    for index, schema in enumerate(value):
        try:
            walk.schema(schema, depth)
        except _Invalid as exc:
            exc.path.append(index)
            raise


def _one_schema(walk: _Walk, value: Any, depth: int) -> None:
    walk.schema(value, depth)


def _items(walk: _Walk, value: Any, depth: int) -> None:
    # A schema, or (before draft 2020-12) an array of them, one per position.
    if isinstance(value, list):
        _schema_list(walk, value, depth)
    else:
        walk.schema(value, depth)


def _names(walk: _Walk, value: Any, depth: int) -> None:
    if not (isinstance(value, list) and all(isinstance(name, str) for name in value)):
        raise _Invalid("must be an array of property names (strings)")


def _type(walk: _Walk, value: Any, depth: int) -> None:
    if isinstance(value, str):
        return
    if not (isinstance(value, list) and all(isinstance(name, str) for name in value)):
        raise _Invalid("must be a type name or an array of type names")


def _enum(walk: _Walk, value: Any, depth: int) -> None:
    if not isinstance(value, list):
        raise _Invalid("must be an array of values")


_Check = Callable[[_Walk, Any, int], None]
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMAS = ("additionalProperties", "additionalItems", "unevaluatedProperties", "unevaluatedItems",
            "propertyNames", "contains", "not", "if", "then", "else")  # fmt: skip
_KEYWORDS: dict[str, _Check] = {
    **dict.fromkeys(_SCHEMA_MAPS, _schema_map),
    **dict.fromkeys(_SCHEMA_LISTS, _schema_list),
    **dict.fromkeys(_SCHEMAS, _one_schema),
    "items": _items,
    "required": _names,
    "type": _type,
    "enum": _enum,
}


def check_schemas(schemas: Iterable[tuple[Path, Any]]) -> None:
    """Raise a pydantic error whose location is the misshapen key, e.g.
    `("tools", 0, "function", "parameters", "properties")`, if any schema is not one."""
    walk = _Walk()
    for path, schema in schemas:
        try:
            walk.schema(schema, 0)
        except _Invalid as exc:
            raise invalid_at((*path, *reversed(exc.path)), exc.message) from None
