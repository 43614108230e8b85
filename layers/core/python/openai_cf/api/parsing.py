"""Request bodies → pydantic wire models, with OpenAI-shaped 400s that name the `param`."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from starlette.requests import Request

from openai_cf.api.middleware import too_large
from openai_cf.errors import InvalidRequestError
from openai_cf.schemas.common import INNER_PATH

M = TypeVar("M", bound=BaseModel)

# Union branch labels pydantic puts in error locations; they are not part of the client's path.
_TYPE_LABELS = {"str", "int", "float", "bool", "list", "dict", "none", "null", "function", "custom"}


async def read_json(request: Request) -> Any:
    max_bytes = request.app.state.settings().max_request_bytes
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        raise InvalidRequestError(
            "We could not parse the JSON body of your request: the body is empty. "
            "Send a JSON object with Content-Type: application/json."
        )
    try:
        return json.loads(body)
    except RecursionError as exc:
        # The C decoder gives up on deep nesting with a RecursionError; that is bad input too.
        raise InvalidRequestError("The JSON body of your request is nested too deeply.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
            "your HTTP library correctly. The OpenAI API expects a JSON payload.)"
        ) from exc


def parse_model(model: type[M], data: Any) -> M:
    if not isinstance(data, dict):
        raise InvalidRequestError("The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, data) from None


def param_path(loc: tuple[int | str, ...], data: Any) -> str:
    """The client's path to the failing value, e.g. `messages[0].content`.

    Pydantic's locations also hold union branch labels and discriminator tags; walking the
    request data alongside keeps only the steps that exist in what the client sent.
    """
    path = ""
    current = data
    for step, part in enumerate(loc):
        if isinstance(part, int) and isinstance(current, list) and 0 <= part < len(current):
            path += f"[{part}]"
            current = current[part]
        elif isinstance(part, str) and isinstance(current, dict) and part in current:
            path += f".{part}" if path else part
            current = current[part]
        elif step == len(loc) - 1 and isinstance(current, dict) and _is_field(str(part)):
            # A required key the client left out.
            path += f".{part}" if path else str(part)
    return path


def _is_field(part: str) -> bool:
    return part.isidentifier() and part not in _TYPE_LABELS


def validation_error(exc: ValidationError, data: Any) -> InvalidRequestError:
    errors = exc.errors(include_url=False)
    first = _most_specific(errors)
    param = param_path(_location(first), data)
    kind = first["type"]
    if kind == "missing":
        message = f"Missing required parameter: '{param}'."
    elif kind == "extra_forbidden":
        message = f"Unrecognized request argument supplied: {param}"
    else:
        message = f"Invalid value for '{param}': {first['msg']}."
    return InvalidRequestError(message, param=param or None, code="invalid_value" if kind != "missing" else None)


def _location(error: ErrorDetails) -> tuple[int | str, ...]:
    """Pydantic's location, plus the steps a validator found inside its value (`schemas.common.invalid_at`)."""
    inner = (error.get("ctx") or {}).get(INNER_PATH)
    return (*error["loc"], *inner) if inner else tuple(error["loc"])


def _most_specific(errors: list[ErrorDetails]) -> ErrorDetails:
    # Unions report one error per branch; the one that got deepest is the most helpful, and at equal
    # depth a broken limit ("at most 4 items") says more than another branch's "not a string".
    return max(errors, key=lambda err: (len(_location(err)), not err["type"].endswith("_type")))
