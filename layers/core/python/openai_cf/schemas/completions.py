"""Legacy Completions wire models (openai-python `types/completion*.py`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from openai_cf.schemas.common import CompletionUsage, RequestModel, StreamOptions
from openai_cf.schemas.limits import MAX_GENERATIONS, Stop


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

    @field_validator("prompt", mode="before")
    @classmethod
    def _few_prompts(cls, prompt: Any) -> Any:
        # Refused before pydantic builds anything per item (a token array is one prompt).
        if _prompt_count(prompt) > MAX_GENERATIONS:
            raise PydanticCustomError(
                "too_long", "at most {limit} prompts are allowed per request", {"limit": MAX_GENERATIONS}
            )
        return prompt

    @field_validator("n")
    @classmethod
    def _few_generations(cls, n: int | None, info: ValidationInfo) -> int | None:
        count = _prompt_count(info.data.get("prompt"))
        if n is not None and n * count > MAX_GENERATIONS:
            raise PydanticCustomError(
                "too_many_generations",
                "`n` times the number of prompts ({n} x {count}) is more than the {limit} generations "
                "allowed per request",
                {"n": n, "count": count, "limit": MAX_GENERATIONS},
            )
        return n


def _prompt_count(prompt: Any) -> int:
    if isinstance(prompt, list) and prompt and not isinstance(prompt[0], int):
        return len(prompt)
    return 1


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
