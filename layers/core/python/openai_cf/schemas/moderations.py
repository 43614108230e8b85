"""Moderations wire models (openai-python `types/moderation*.py`).

`input` is typed loosely here and checked item by item in `services.moderations`, so that a bad
item is refused with its own path (`input[2]`, `input[0].image_url`) rather than pydantic's
union-branch noise.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, field_validator
from pydantic_core import PydanticCustomError

from openai_cf.schemas import limits as lim
from openai_cf.schemas.common import RequestModel

DEFAULT_MODEL = "omni-moderation-latest"

# OpenAI's 13 categories, in the order its spec lists them; every map carries all of them.
CATEGORIES: tuple[str, ...] = (
    "hate",
    "hate/threatening",
    "harassment",
    "harassment/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)

InputType = Literal["text", "image"]


class ModerationCreateParams(RequestModel):
    input: str | list[Any]
    model: lim.ModelName = DEFAULT_MODEL

    @field_validator("input", mode="before")
    @classmethod
    def _few_inputs(cls, value: Any) -> Any:
        # Counted before anything is built per item (a list of ints is no token array here).
        if isinstance(value, list) and len(value) > lim.MAX_MODERATION_INPUTS:
            raise PydanticCustomError(
                "too_long", "at most {limit} inputs are allowed per request", {"limit": lim.MAX_MODERATION_INPUTS}
            )
        return value


# Keys such as `hate/threatening` are no Python names: the maps are plain dicts, always built from
# `CATEGORIES` (openai-python's `Categories` reads them by alias).
class Moderation(BaseModel):
    flagged: bool
    categories: dict[str, bool]
    category_scores: dict[str, float]
    category_applied_input_types: dict[str, list[InputType]]


class ModerationCreateResponse(BaseModel):
    id: str
    model: str
    results: list[Moderation]
