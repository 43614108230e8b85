"""The Text-to-Image task: tiny deterministic PNGs, as raw bytes or base64 JSON per the model's schema.

This is part of a development and test double, not Workers AI: the picture is an 8x8 square of one
colour derived from sha256(model, prompt, seed, image), whatever size was asked for. Models whose
output schema says `image/png` (stable-diffusion, dreamshaper) answer raw PNG bytes; the others
(flux-1-schnell, lucid-origin) answer the envelope with `{"image": "<base64>"}` — PNG here, where
flux answers JPEG upstream: the bridge accepts both. `emulate:not_image` in the prompt answers bytes
that are no image, for the bridge's upstream-error path.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import zlib
from typing import Any

from starlette.responses import Response

from .context import RunContext, TaskHandler
from .errors import success_response

SIDE = 8
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def tiny_png(seed: bytes) -> bytes:
    """A valid 8x8 RGB PNG of one colour taken from `seed`."""
    colour = hashlib.sha256(seed).digest()[:3]
    row = b"\x00" + colour * SIDE  # filter byte 0, then the pixels
    header = struct.pack(">IIBBBBB", SIDE, SIDE, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(row * SIDE)) + _chunk(b"IEND", b"")


def _prompt(body: dict[str, Any]) -> str:
    prompt = body.get("prompt")
    return prompt if isinstance(prompt, str) else ""


def _seed(ctx: RunContext) -> bytes:
    body = ctx.body
    inputs = {key: body.get(key) for key in ("prompt", "seed", "image_b64", "width", "height")}
    image = body.get("image")
    if isinstance(image, list):
        inputs["image"] = hashlib.sha256(bytes(int(v) & 0xFF for v in image)).hexdigest()
    return f"{ctx.info.name}\n{json.dumps(inputs, sort_keys=True, default=str)}".encode()


async def run_text_to_image(ctx: RunContext) -> Response:
    picture = b"this is no image" if "not_image" in ctx.directives.unknown else tiny_png(_seed(ctx))
    if "image/png" in json.dumps(ctx.info.output_schema or {}):
        return Response(picture, media_type="image/png")
    return success_response({"image": base64.b64encode(picture).decode()})


TEXT_TO_IMAGE_HANDLER = TaskHandler(directive_text=_prompt, run=run_text_to_image)
