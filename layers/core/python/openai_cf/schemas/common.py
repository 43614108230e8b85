"""Pieces shared by several wire models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

# The `ctx` key under which `invalid_at` carries the path inside a value (read by `api.parsing`).
INNER_PATH = "inner_path"


def _is_none(value: object) -> bool:
    return value is None


def omitted() -> Any:
    """A response field OpenAI leaves out when it has no value (its spec types it without null, so
    a `null` there fails strict clients and schema validators): `x: T | None = omitted()`."""
    return Field(default=None, exclude_if=_is_none)


class RequestModel(BaseModel):
    """Request bodies refuse unknown arguments, as OpenAI does."""

    model_config = ConfigDict(extra="forbid")


def invalid_at(path: tuple[int | str, ...], message: str) -> PydanticCustomError:
    """A validation error about something inside the value being validated, e.g. a key deep in a
    tool's JSON Schema: the 400's `param` then names that key, not just the field holding it.

    `message` is a pydantic message template: keep client data (which may hold braces) out of it.
    """
    return PydanticCustomError("invalid_value", message, {INNER_PATH: path})


class CompletionTokensDetails(BaseModel):
    reasoning_tokens: int = 0
    audio_tokens: int = 0
    accepted_prediction_tokens: int = 0
    rejected_prediction_tokens: int = 0


class PromptTokensDetails(BaseModel):
    cached_tokens: int = 0
    audio_tokens: int = 0


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None


class StreamOptions(RequestModel):
    include_usage: bool | None = None
    include_obfuscation: bool | None = None


FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "function_call"]
