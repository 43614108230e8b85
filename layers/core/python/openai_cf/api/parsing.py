"""Request bodies → pydantic wire models, with OpenAI-shaped 400s that name the `param`."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from starlette.requests import ClientDisconnect, Request

from openai_cf.api.middleware import too_large
from openai_cf.errors import ClientClosedRequest, InvalidRequestError
from openai_cf.schemas.common import INNER_PATH

M = TypeVar("M", bound=BaseModel)

# Deeper than any real request (a strict JSON Schema of 10 levels is ~25 levels of JSON), far below
# the interpreter's recursion limit.
MAX_NESTING = 64

# A JSON escape of a UTF-16 surrogate half; `\\u` cannot occur in JSON outside strings.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")

# Union branch labels pydantic puts in error locations; they are not part of the client's path.
_TYPE_LABELS = {"str", "int", "float", "bool", "list", "dict", "none", "null", "function", "custom"}


async def read_json(request: Request) -> Any:
    max_bytes = request.app.state.settings().max_request_bytes
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise too_large(max_bytes)
            chunks.append(chunk)
    except ClientDisconnect:
        raise ClientClosedRequest("The client closed the connection while sending its request.") from None
    body = b"".join(chunks)
    if not body.strip():
        raise InvalidRequestError(
            "We could not parse the JSON body of your request: the body is empty. "
            "Send a JSON object with Content-Type: application/json."
        )
    try:
        data = _DECODER.decode(body.decode("utf-8-sig"))
    except RecursionError as exc:
        # The C decoder gives up on deep nesting with a RecursionError; that is bad input too.
        raise InvalidRequestError(
            f"The JSON body of your request is nested more than {MAX_NESTING} levels deep.", code="invalid_json"
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
            "your HTTP library correctly. The OpenAI API expects a JSON payload.)"
        ) from exc
    if _SURROGATE_ESCAPE.search(body) and not _valid_unicode(data):
        raise InvalidRequestError(
            "The JSON body of your request contains an unpaired surrogate escape (such as \\ud800): "
            "strings must be valid Unicode.",
            code="invalid_json",
        )
    if not _nesting_within(data, MAX_NESTING):
        raise InvalidRequestError(
            f"The JSON body of your request is nested more than {MAX_NESTING} levels deep.",
            code="invalid_json",
        )
    return data


async def read_optional_json(request: Request) -> Any:
    """A JSON body that may be left out altogether (`Content-Length: 0`): `{}` then, as for
    `POST /v1/threads` from a client with nothing to set."""
    if request.headers.get("content-length") == "0":
        return {}
    return await read_json(request)


def _valid_unicode(data: Any) -> bool:
    # Only reached when the raw body has a surrogate escape: pairs are fine, lone halves are not
    # text, and would fail later when an answer echoing them is encoded.
    try:
        json.dumps(data, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


def _refuse_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity, which are not JSON: no OpenAI field takes them, and
    # they would reach Workers AI as invalid JSON.
    raise ValueError(f"{name} is not valid JSON")


# One decoder for every request: `json.loads` with any option builds a new one each call (~2 µs).
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _nesting_within(data: Any, limit: int) -> bool:
    """Whether no value is nested deeper than `limit` containers. Level by level, not recursive:
    deep input must not exhaust the stack here, nor later in code that walks or re-encodes it."""
    level = [data]
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return False
        below = []
        for value in level:
            for child in value.values() if type(value) is dict else value if type(value) is list else ():
                if type(child) is dict or type(child) is list:
                    below.append(child)
        level = below
    return True


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


def parse_query(model: type[M], request: Request) -> M:
    """Query parameters as a request model (a repeated parameter counts once, the last wins)."""
    return parse_model(model, dict(request.query_params))
