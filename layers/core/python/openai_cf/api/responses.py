"""JSON responses and the one place errors become OpenAI's envelope."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError
from starlette.responses import Response

from openai_cf.errors import OpenAICFError

JSON_TYPE = "application/json"


def dumps(value: Any) -> bytes:
    try:
        if isinstance(value, BaseModel):
            return value.model_dump_json(exclude_unset=False).encode()
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    except (UnicodeEncodeError, PydanticSerializationError):
        return ascii_json(value)


def ascii_json(value: Any) -> bytes:
    """JSON with every non-ASCII character escaped: the one encoding that carries an unpaired
    surrogate (which upstream output can contain) as valid JSON, as `\\ud800`."""
    plain = value.model_dump(mode="json", fallback=str) if isinstance(value, BaseModel) else value
    return json.dumps(plain, separators=(",", ":")).encode()


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(value), status_code=status, media_type=JSON_TYPE, headers=headers)


def error_body(error: OpenAICFError) -> dict[str, Any]:
    return {"error": error.to_dict()}


def error_response(error: OpenAICFError) -> Response:
    return json_response(error_body(error), status=error.status, headers=error.headers())
