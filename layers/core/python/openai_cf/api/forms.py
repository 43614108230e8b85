"""Multipart bodies (`POST /v1/files`, upload parts, audio uploads), parsed by python-multipart through Starlette.

File parts are spooled to a temporary file past 1 MB (never held whole in memory) and the body is
counted as it arrives, so a body without `Content-Length` cannot exceed the binary limit either.
OpenAI's SDK sends objects as bracketed fields (`expires_after[seconds]=3600`): `nested` reads
them back as a dict.
"""

from __future__ import annotations

from typing import Any

from python_multipart.exceptions import MultipartParseError
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import Message

from openai_cf.api.middleware import too_large
from openai_cf.errors import InvalidRequestError, UnsupportedMediaTypeError

# A form with more fields than any OpenAI multipart endpoint takes is not one of ours.
MAX_FIELDS = 32


async def read_form(request: Request, *, max_bytes: int, max_files: int = 1) -> FormData:
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise UnsupportedMediaTypeError("This endpoint takes multipart/form-data.", code="unsupported_media_type")
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > max_bytes:
            raise too_large(max_bytes, binary=True)
        return message

    try:
        return await Request(request.scope, counted).form(max_files=max_files, max_fields=MAX_FIELDS)
    except (MultiPartException, MultipartParseError) as exc:
        raise InvalidRequestError(f"The multipart body could not be parsed: {exc}") from exc


def file_field(form: FormData, name: str) -> UploadFile:
    value = form.get(name)
    if not isinstance(value, UploadFile):
        raise InvalidRequestError(f"Missing required parameter: '{name}'.", param=name)
    return value


def file_fields(form: FormData, name: str) -> list[UploadFile]:
    """Every file sent as `name` or, as the SDK sends a list, as `name[]` parts (in order)."""
    return [v for key in (name, f"{name}[]") for v in form.getlist(key) if isinstance(v, UploadFile)]


def text_fields(form: FormData) -> dict[str, Any]:
    """The form's text fields, with `a[b]=v` parts gathered into `{"a": {"b": v}}` and repeated
    `a[]=v` parts into `{"a": [v, …]}` (how the SDK sends arrays, e.g. `timestamp_granularities[]`)."""
    fields: dict[str, Any] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            continue
        name, _, inner = key.partition("[")
        if inner == "]":
            items = fields.setdefault(name, [])
            if isinstance(items, list):
                items.append(value)
        elif inner.endswith("]") and inner[:-1]:
            group = fields.setdefault(name, {})
            if isinstance(group, dict):
                group[inner[:-1]] = value
        else:
            fields[key] = value
    return fields
