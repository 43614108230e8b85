"""Client-shaped JSON (tools and their schemas, message content, metadata) kept as JSON text.

DynamoDB maps nest at most 32 levels and its numbers hold 38 significant digits; a client's JSON
Schema respects neither (we allow 64 levels, and `1e300` is a valid `maximum`). As one string
attribute the value round-trips exactly and costs the same bytes.
"""

from __future__ import annotations

import json
from typing import Any


def to_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def from_text(text: str) -> Any:
    return json.loads(text)
