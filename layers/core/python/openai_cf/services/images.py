"""Image generation: OpenAI's request → one Workers AI call per image (concurrently, bounded), the
answer as base64 or as a presigned S3 link.

Workers AI answers raw PNG bytes (stable-diffusion, dreamshaper) or `{"image": "<base64>"}`
(flux-1-schnell: JPEG, lucid-origin): both are accepted, and anything that is neither PNG nor JPEG
is the upstream's error (502), never passed on.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from typing import Any

from openai_cf.errors import BadGatewayError, InvalidRequestError
from openai_cf.schemas.images import Image, ImageGenerateParams, ImagesResponse
from openai_cf.services.generation import choice_seed, fan_out, log_generation
from openai_cf.services.image_sizes import dimensions
from openai_cf.services.models import ModelRegistry, ResolvedModel
from openai_cf.storage.images import ImageStore
from openai_cf.workers_ai.catalog import TEXT_TO_IMAGE
from openai_cf.workers_ai.client import BinaryResult, WorkersAIClient

DEFAULT_MODEL = "dall-e-2"
# OpenAI's own limit on `n` per model (dall-e-3 makes one image per request).
MAX_N = {"dall-e-3": 1}
# gpt-image models always answer base64; the DALL·E models default to links.
B64_BY_DEFAULT = ("gpt-image-1",)
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def sniff(data: bytes) -> str:
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return content_type
    raise BadGatewayError("Workers AI answered an image request with something that is not a PNG or JPEG image.")


def image_bytes(result: Any) -> bytes:
    """The picture in a Workers AI answer: raw bytes, or the base64 `image` of a JSON result."""
    if isinstance(result, BinaryResult):
        return result.content
    encoded = result.get("image") if isinstance(result, dict) else None
    if not isinstance(encoded, str):
        raise BadGatewayError("Workers AI answered an image request without an image.")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadGatewayError("Workers AI answered an image that is not valid base64.") from exc


def _properties(model: ResolvedModel) -> dict[str, Any]:
    return dict((model.info.input_schema or {}).get("properties") or {})


def check_prompt(prompt: str, model: ResolvedModel) -> None:
    limit = (_properties(model).get("prompt") or {}).get("maxLength")
    if limit is not None and len(prompt) > int(limit):
        raise InvalidRequestError(
            f"The model `{model.requested}` ({model.name}) takes prompts of at most {limit} characters; "
            f"this one has {len(prompt)}.",
            param="prompt",
            code="string_above_max_length",
        )


def _check_n(n: int, requested: str) -> None:
    limit = MAX_N.get(requested)
    if limit is not None and n > limit:
        raise InvalidRequestError(
            f"`{requested}` makes at most {limit} image per request; send n={limit}.", param="n", code="invalid_value"
        )


class ImagesService:
    def __init__(
        self, client: WorkersAIClient, models: ModelRegistry, store: ImageStore,
        *, clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.client = client
        self.models = models
        self.store = store
        self.clock = clock

    def generate(self, params: ImageGenerateParams) -> ImagesResponse:
        if params.stream:
            raise InvalidRequestError("Streamed image generation is not supported.", param="stream")
        model = self.models.resolve(params.model or DEFAULT_MODEL, task=TEXT_TO_IMAGE)
        n = params.n or 1
        _check_n(n, model.requested)
        check_prompt(params.prompt, model)
        size = dimensions(params.size, requested=model.requested, model=model.name, schema=model.info.input_schema)
        payload: dict[str, Any] = {"prompt": params.prompt, **size.payload()}
        pictures = self.render(model, payload, n)
        fmt = params.response_format or ("b64_json" if model.requested in B64_BY_DEFAULT else "url")
        revised = params.prompt if model.requested == "dall-e-3" else None
        return self.answer(pictures, fmt, revised_prompt=revised)

    def render(self, model: ResolvedModel, payload: dict[str, Any], n: int) -> list[tuple[bytes, str]]:
        """`n` pictures, each from its own upstream call; distinct seeds where the model takes one."""
        seeds = _properties(model).get("seed")

        def one(index: int) -> tuple[bytes, str]:
            body = dict(payload)
            if seeds is not None and n > 1:
                body["seed"] = choice_seed(None, index, (seeds.get("minimum"), seeds.get("maximum")))
                if body["seed"] is None:
                    del body["seed"]
            data = image_bytes(self.client.run(model.name, body))
            return data, sniff(data)

        pictures = fan_out(n, one)
        log_generation("images", model.name, None, n=n, stream=False)
        return pictures

    def answer(
        self, pictures: list[tuple[bytes, str]], response_format: str, *, revised_prompt: str | None = None
    ) -> ImagesResponse:
        if response_format == "url":
            # One S3 PUT per image, at once as the upstream calls were (same bound, same cancel scope).
            urls = fan_out(len(pictures), lambda i: self.store.publish(*pictures[i]))
            data = [Image(url=url, revised_prompt=revised_prompt) for url in urls]
        else:
            data = [Image(b64_json=base64.b64encode(d).decode(), revised_prompt=revised_prompt) for d, _ in pictures]
        return ImagesResponse(created=int(self.clock()), data=data)
