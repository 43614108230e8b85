"""Images wire models (openai-python `types/image_generate_params.py`, `images_response.py`).

Every request field OpenAI documents is accepted; `services.images` says which it honours.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from openai_cf.schemas import limits as lim
from openai_cf.schemas.common import RequestModel, omitted

# gpt-image-1 takes the longest prompts (32,000 characters); the model's own limit applies after.
MAX_IMAGE_PROMPT = 32_000
ImageQuality = Literal["standard", "hd", "low", "medium", "high", "auto"]
ImageResponseFormat = Literal["url", "b64_json"]


class ImageGenerateParams(RequestModel):
    prompt: str = Field(min_length=1, max_length=MAX_IMAGE_PROMPT)
    model: lim.ModelName | None = None
    n: int | None = Field(default=None, ge=1, le=10)
    size: str | None = None
    quality: ImageQuality | None = None
    response_format: ImageResponseFormat | None = None
    style: Literal["vivid", "natural"] | None = None
    background: Literal["transparent", "opaque", "auto"] | None = None
    output_format: Literal["png", "jpeg", "webp"] | None = None
    output_compression: int | None = Field(default=None, ge=0, le=100)
    moderation: Literal["low", "auto"] | None = None
    stream: bool | None = None
    partial_images: int | None = Field(default=None, ge=0, le=3)
    user: lim.Identifier | None = None


class Image(BaseModel):
    b64_json: str | None = omitted()
    url: str | None = omitted()
    revised_prompt: str | None = omitted()


class ImagesResponse(BaseModel):
    created: int
    data: list[Image]


class ImageEditFields(RequestModel):
    """The text fields of `POST /v1/images/edits` (the files are read apart)."""

    prompt: str = Field(min_length=1, max_length=MAX_IMAGE_PROMPT)
    model: lim.ModelName | None = None
    n: int | None = Field(default=None, ge=1, le=10)
    size: str | None = None
    quality: ImageQuality | None = None
    response_format: ImageResponseFormat | None = None
    background: Literal["transparent", "opaque", "auto"] | None = None
    output_format: Literal["png", "jpeg", "webp"] | None = None
    output_compression: int | None = Field(default=None, ge=0, le=100)
    input_fidelity: Literal["high", "low"] | None = None
    stream: bool | None = None
    partial_images: int | None = Field(default=None, ge=0, le=3)
    user: lim.Identifier | None = None


class ImageVariationFields(RequestModel):
    """The text fields of `POST /v1/images/variations` (the image is read apart)."""

    model: lim.ModelName | None = None
    n: int | None = Field(default=None, ge=1, le=10)
    size: str | None = None
    response_format: ImageResponseFormat | None = None
    user: lim.Identifier | None = None
