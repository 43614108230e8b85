"""Input validation against a model's JSON Schema, worded like Workers AI's 5006 "Bad input" errors.

This is part of a development and test double, not Workers AI. Real wording looks like
`AiError: Bad input: oneOf at '/' not met, 0 matches: required properties at '/' are 'prompt',
Type mismatch of '/messages/0/content', 'array' not in 'string'`; this module approximates it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend, validator_for

from openai_cf.workers_ai.catalog import packaged_models

from .errors import EmulatorError

_MAX_PARTS = 6

# bool before int: in Python a bool is an int.
_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def _exactly_one_of(
    validator: Any, subschemas: list[Any], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """`oneOf`, failing with a count of matching branches (Workers AI words it `… not met, 0 matches`)."""
    errors: list[ValidationError] = []
    matches = 0
    for index, subschema in enumerate(subschemas):
        branch_errors = list(validator.descend(instance, subschema, schema_path=index))
        matches += not branch_errors
        errors.extend(branch_errors)
    if matches != 1:
        yield ValidationError(f"{matches} matches", context=errors if matches == 0 else [])


def _require_requests(node: Any) -> None:
    """Add the `required: ["requests"]` that published "Async Batch" branches omit.

    Without it (llama-3.3's schema) that branch matches every body, so every valid messages body would
    match two `oneOf` branches and be rejected; Workers AI accepts those bodies.
    """
    if isinstance(node, list):
        for item in node:
            _require_requests(item)
    if not isinstance(node, dict):
        return
    for combinator in ("oneOf", "anyOf"):
        for option in node.get(combinator) or []:
            if isinstance(option, dict) and set(option.get("properties") or {}) == {"requests"}:
                option.setdefault("required", ["requests"])
    for value in node.values():
        _require_requests(value)


@cache
def _validator(model: str) -> Validator | None:
    """One compiled validator per packaged model (None when the model publishes no input schema)."""
    schema = packaged_models()[model].input_schema
    if schema is None:
        return None
    schema = copy.deepcopy(schema)
    _require_requests(schema)
    base = validator_for(schema, default=Draft202012Validator)
    counting = extend(base, {"oneOf": _exactly_one_of})  # type: ignore[no-untyped-call]  # untyped stub
    validator: Validator = counting(schema)
    return validator


def validate_input(model: str, body: dict[str, Any]) -> None:
    """Raise 5006 when `body` (already stripped of `options`) does not satisfy the model's schema."""
    validator = _validator(model)
    if validator is None:
        return
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        raise EmulatorError(5006, detail=", ".join(describe(error) for error in errors[:_MAX_PARTS]))


def _pointer(error: ValidationError) -> str:
    return "/" + "/".join(str(part) for part in error.absolute_path)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    for kinds, name in _JSON_TYPES:
        if isinstance(value, kinds):
            return name
    return type(value).__name__


def _extras(error: ValidationError) -> str:
    allowed = set((error.schema or {}).get("properties") or {}) if isinstance(error.schema, dict) else set()
    instance = error.instance if isinstance(error.instance, dict) else {}
    return ", ".join(f"/{key}" for key in instance if key not in allowed)


def _expected(error: ValidationError) -> str:
    expected = error.validator_value
    return ", ".join(map(str, expected)) if isinstance(expected, list) else str(expected)


def describe(error: ValidationError) -> str:
    """One validation error in the style of Workers AI's schema checker."""
    at = _pointer(error)
    kind = error.validator
    if kind == "oneOf":
        details = _describe_all(error.context or [])
        return f"oneOf at '{at}' not met, {error.message}" + (f": {details}" if details else "")
    if kind == "anyOf":
        return f"anyOf at '{at}' not met: {_describe_all(error.context or [])}"
    if kind == "type":
        return f"Type mismatch of '{at}', '{json_type(error.instance)}' not in '{_expected(error)}'"
    if kind == "additionalProperties":
        return f"Additional or unevaluated properties '{_extras(error)}' at '{at}' not allowed"
    if kind == "required":
        return f"required properties at '{at}' are '{_expected(error)}'"
    return f"{error.message} at '{at}'"


def _describe_all(errors: Iterable[ValidationError]) -> str:
    seen: list[str] = []
    for error in errors:
        text = describe(error)
        if text not in seen:
            seen.append(text)
    return ", ".join(seen[:_MAX_PARTS])
