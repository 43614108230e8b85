"""Pieces shared by several wire models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class RequestModel(BaseModel):
    """Request bodies refuse unknown arguments, as OpenAI does."""

    model_config = ConfigDict(extra="forbid")


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
