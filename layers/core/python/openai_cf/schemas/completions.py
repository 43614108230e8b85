"""Legacy Completions wire models (openai-python `types/completion*.py`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from openai_cf.schemas.common import CompletionUsage, RequestModel, StreamOptions
from openai_cf.schemas.limits import Stop


class CompletionCreateParams(RequestModel):
    model: str = Field(min_length=1)
    prompt: str | list[str] | list[int] | list[list[int]] | None
    best_of: int | None = Field(default=None, ge=0, le=20)
    echo: bool | None = None
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    logit_bias: dict[str, int] | None = None
    logprobs: int | None = Field(default=None, ge=0, le=5)
    # OpenAI's default for this endpoint is 16 tokens.
    max_tokens: int | None = Field(default=16, ge=1)
    n: int | None = Field(default=None, ge=1, le=128)
    seed: int | None = None
    stop: Stop = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    suffix: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    user: str | None = None


class CompletionChoice(BaseModel):
    text: str
    index: int
    logprobs: None = None
    finish_reason: Literal["stop", "length", "content_filter"]


class Completion(BaseModel):
    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None
