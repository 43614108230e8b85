"""Legacy Completions wire models (openai-python `types/completion*.py`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from openai_cf.schemas import limits as lim
from openai_cf.schemas.common import CompletionUsage, RequestModel, StreamOptions, omitted


class CompletionCreateParams(RequestModel):
    model: lim.ModelName
    prompt: str | list[str] | list[int] | list[list[int]] | None
    best_of: int | None = Field(default=None, ge=0, le=20)
    echo: bool | None = None
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    logit_bias: lim.LogitBias | None = None
    logprobs: int | None = Field(default=None, ge=0, le=5)
    # OpenAI's default for this endpoint is 16 tokens.
    max_tokens: int | None = Field(default=16, ge=1)
    n: int | None = Field(default=None, ge=1, le=lim.MAX_N)
    seed: lim.Seed | None = None
    stop: lim.Stop = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    suffix: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    user: lim.Identifier | None = None

    @field_validator("prompt", mode="before")
    @classmethod
    def _few_prompts(cls, prompt: Any) -> Any:
        return lim.at_most(prompt, lim.MAX_GENERATIONS, "prompts")

    @field_validator("n")
    @classmethod
    def _few_generations(cls, n: int | None, info: ValidationInfo) -> int | None:
        count = lim.item_count(info.data.get("prompt"))
        if n is not None and n * count > lim.MAX_GENERATIONS:
            raise PydanticCustomError(
                "too_many_generations",
                "`n` times the number of prompts ({n} x {count}) is more than the {limit} generations "
                "allowed per request",
                {"n": n, "count": count, "limit": lim.MAX_GENERATIONS},
            )
        return n


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
    system_fingerprint: str | None = omitted()
