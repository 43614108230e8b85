"""Image edits and variations: an input picture (and optional mask) through Workers AI's img2img /
inpainting models, answered like generations.

OpenAI names (`dall-e-2`, `gpt-image-1`, …) edit with stable-diffusion-v1-5-img2img, or -inpainting
when a mask comes; an `@cf/...` model must take an input image (`image`/`image_b64` in its schema).
Variations are img2img with a neutral prompt. These models take one input image and answer PNG.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from openai_cf.errors import InvalidRequestError
from openai_cf.schemas.images import ImageEditFields, ImagesResponse, ImageVariationFields
from openai_cf.services.image_sizes import dimensions
from openai_cf.services.images import B64_BY_DEFAULT, DEFAULT_MODEL, ImagesService, check_prompt
from openai_cf.services.models import ResolvedModel
from openai_cf.workers_ai.catalog import TEXT_TO_IMAGE

IMG2IMG = "@cf/runwayml/stable-diffusion-v1-5-img2img"
INPAINTING = "@cf/runwayml/stable-diffusion-v1-5-inpainting"
VARIATION_PROMPT = "A variation of this image: the same subject, composition, colours and style."
# How far img2img may move from the input (0 keeps it, 1 ignores it; the schema's default is 1).
EDIT_STRENGTH = 0.75
VARIATION_STRENGTH = 0.6
_TYPES = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"))


@dataclass(frozen=True)
class Picture:
    """One uploaded file: its form field and bytes."""

    param: str
    data: bytes


def _kind(picture: Picture) -> str | None:
    return next((kind for signature, kind in _TYPES if picture.data.startswith(signature)), None)


def check_picture(picture: Picture, *, png_only: bool = False) -> None:
    if not picture.data:
        raise InvalidRequestError(f"The file in '{picture.param}' is empty.", param=picture.param, code="empty_file")
    kind = _kind(picture)
    if kind is None or (png_only and kind != "png"):
        wanted = "a PNG image" if png_only else "a PNG or JPEG image"
        raise InvalidRequestError(
            f"The file in '{picture.param}' is not {wanted}.", param=picture.param, code="invalid_image_format"
        )


class ImageEdits:
    def __init__(self, images: ImagesService) -> None:
        self.images = images

    def edit(self, fields: ImageEditFields, pictures: list[Picture], mask: Picture | None) -> ImagesResponse:
        if fields.stream:
            raise InvalidRequestError("Streamed image edits are not supported.", param="stream")
        if not pictures:
            raise InvalidRequestError("Missing required parameter: 'image'.", param="image")
        if len(pictures) > 1:
            raise InvalidRequestError(
                "Workers AI's image-to-image models take one input image; send one 'image'.",
                param="image",
                code="invalid_value",
            )
        check_picture(pictures[0])
        if mask is not None:
            check_picture(mask, png_only=True)
        model = self._model(fields.model, INPAINTING if mask is not None else IMG2IMG)
        check_prompt(fields.prompt, model)
        payload = self._payload(model, fields.prompt, pictures[0], fields.size, EDIT_STRENGTH)
        if mask is not None:
            payload["mask"] = list(mask.data)
        return self._answer(model, payload, fields.n, fields.response_format)

    def vary(self, fields: ImageVariationFields, picture: Picture) -> ImagesResponse:
        check_picture(picture)
        model = self._model(fields.model, IMG2IMG)
        payload = self._payload(model, VARIATION_PROMPT, picture, fields.size, VARIATION_STRENGTH)
        return self._answer(model, payload, fields.n, fields.response_format)

    def _model(self, requested: str | None, default: str) -> ResolvedModel:
        name = requested or DEFAULT_MODEL
        if not name.startswith("@"):
            return ResolvedModel(requested=name, info=self.images.models.resolve(default, task=TEXT_TO_IMAGE).info)
        model = self.images.models.resolve(name, task=TEXT_TO_IMAGE)
        if not {"image", "image_b64"} & set((model.info.input_schema or {}).get("properties") or {}):
            raise InvalidRequestError(
                f"The model `{name}` makes images from text only and cannot edit one; use {IMG2IMG} or {INPAINTING}.",
                param="model",
                code="model_not_supported",
            )
        return model

    @staticmethod
    def _payload(
        model: ResolvedModel, prompt: str, picture: Picture, size: str | None, strength: float
    ) -> dict[str, Any]:
        props = (model.info.input_schema or {}).get("properties") or {}
        size_fields = dimensions(size, requested=model.requested, model=model.name, schema=model.info.input_schema)
        payload: dict[str, Any] = {"prompt": prompt, **size_fields.payload()}
        if "image_b64" in props:
            payload["image_b64"] = base64.b64encode(picture.data).decode()
        else:
            payload["image"] = list(picture.data)
        if "strength" in props:
            payload["strength"] = strength
        return payload

    def _answer(self, model: ResolvedModel, payload: dict[str, Any], n: int | None, fmt: str | None) -> ImagesResponse:
        pictures = self.images.render(model, payload, n or 1)
        return self.images.answer(pictures, fmt or ("b64_json" if model.requested in B64_BY_DEFAULT else "url"))
