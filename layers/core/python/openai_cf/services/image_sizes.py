"""OpenAI's `size` → the `width`/`height` a Workers AI image model can honour, or a 400 naming `size`.

OpenAI names keep OpenAI's sizes (dall-e-2: 256-1024 squares; dall-e-3: 1024 and 1792 sides;
gpt-image-1: 1024 and 1536 sides or `auto`); `@cf/...` names take any `WIDTHxHEIGHT` within the
model's schema. A model whose schema has no width/height (flux-1-schnell) makes 1024x1024 only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from openai_cf.errors import InvalidRequestError

OPENAI_SIZES: dict[str, tuple[str, ...]] = {
    "dall-e-2": ("256x256", "512x512", "1024x1024"),
    "dall-e-3": ("1024x1024", "1792x1024", "1024x1792"),
    "gpt-image-1": ("auto", "1024x1024", "1536x1024", "1024x1536"),
}
FIXED_SIZE = "1024x1024"
_SIZE = re.compile(r"(\d{1,5})x(\d{1,5})")


@dataclass(frozen=True)
class Dimensions:
    width: int | None = None  # None: the model's default
    height: int | None = None

    def payload(self) -> dict[str, int]:
        return {k: v for k, v in (("width", self.width), ("height", self.height)) if v is not None}


def _refuse(message: str) -> InvalidRequestError:
    return InvalidRequestError(message, param="size", code="invalid_value")


def _bounds(schema: dict[str, Any], key: str) -> tuple[int, int] | None:
    prop = (schema.get("properties") or {}).get(key)
    if not isinstance(prop, dict):
        return None
    return int(prop.get("minimum") or 1), int(prop.get("maximum") or 4096)


def dimensions(size: str | None, *, requested: str, model: str, schema: dict[str, Any] | None) -> Dimensions:
    allowed = OPENAI_SIZES.get(requested)
    if size is not None and allowed is not None and size not in allowed:
        raise _refuse(f"'{size}' is not a size of `{requested}`; use one of: {', '.join(allowed)}.")
    if size is None or size == "auto":
        return Dimensions()
    match = _SIZE.fullmatch(size)
    if match is None:
        raise _refuse(f"'{size}' is not a size: send WIDTHxHEIGHT in pixels, e.g. 1024x1024.")
    width, height = int(match.group(1)), int(match.group(2))
    widths, heights = _bounds(schema or {}, "width"), _bounds(schema or {}, "height")
    if widths is None or heights is None:
        if size == FIXED_SIZE:
            return Dimensions()
        raise _refuse(f"The model `{requested}` ({model}) makes {FIXED_SIZE} images only; omit `size` or send it.")
    if not (widths[0] <= width <= widths[1] and heights[0] <= height <= heights[1]):
        raise _refuse(
            f"The model `{requested}` ({model}) makes images {widths[0]}-{widths[1]} pixels wide and "
            f"{heights[0]}-{heights[1]} high; '{size}' is outside that."
        )
    return Dimensions(width, height)
