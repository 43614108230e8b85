"""Embeddings wire models (openai-python `types/embedding*.py`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from openai_cf.schemas import limits as lim
from openai_cf.schemas.common import RequestModel


class EmbeddingCreateParams(RequestModel):
    model: lim.ModelName
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = Field(default=None, ge=1)
    user: lim.Identifier | None = None

    @field_validator("input", mode="before")
    @classmethod
    def _few_inputs(cls, value: Any) -> Any:
        return lim.at_most(value, lim.MAX_EMBEDDING_INPUTS, "inputs")


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class Usage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class CreateEmbeddingResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: Usage
