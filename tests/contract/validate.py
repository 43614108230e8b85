"""Validate our answers against OpenAI's own response schemas (`openai_schemas.json`)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).with_name("openai_schemas.json")


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SCHEMAS.read_text("utf-8"))
    return document


def assert_matches(schema: str, payload: Any) -> None:
    """Fail with every violation listed if `payload` is not a valid `schema` object."""
    root = {**_document(), "$ref": f"#/components/schemas/{schema}"}
    errors = sorted(Draft202012Validator(root).iter_errors(payload), key=lambda e: list(e.absolute_path))
    assert not errors, f"{schema}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}" for e in errors
    )
