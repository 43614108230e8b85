"""`size` → width/height per model, and which upstream answers count as images."""

from __future__ import annotations

import base64

import pytest

from openai_cf.errors import BadGatewayError, InvalidRequestError
from openai_cf.services.image_sizes import Dimensions, dimensions
from openai_cf.services.images import image_bytes, sniff
from openai_cf.workers_ai.catalog import packaged_models
from openai_cf.workers_ai.client import BinaryResult

FLUX = "@cf/black-forest-labs/flux-1-schnell"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"


def _schema(name: str) -> dict[str, object] | None:
    return packaged_models()[name].input_schema


@pytest.mark.parametrize(
    ("size", "requested", "model", "expected"),
    [
        (None, "dall-e-2", FLUX, Dimensions()),
        ("1024x1024", "dall-e-2", FLUX, Dimensions()),  # flux's only size, sent as no size
        ("auto", "gpt-image-1", SDXL, Dimensions()),
        ("256x256", "dall-e-2", SDXL, Dimensions(256, 256)),
        ("1792x1024", "dall-e-3", SDXL, Dimensions(1792, 1024)),
        ("768x512", SDXL, SDXL, Dimensions(768, 512)),
    ],
)
def test_sizes_the_model_honours(size: str | None, requested: str, model: str, expected: Dimensions) -> None:
    assert dimensions(size, requested=requested, model=model, schema=_schema(model)) == expected


@pytest.mark.parametrize(
    ("size", "requested", "model"),
    [
        ("512x512", "dall-e-2", FLUX),  # flux makes 1024x1024 only
        ("512x512", "dall-e-3", SDXL),  # not a dall-e-3 size
        ("100x100", SDXL, SDXL),  # under the schema's 256
        ("4096x1024", SDXL, SDXL),
        ("1024", SDXL, SDXL),
        ("auto", "dall-e-2", SDXL),
    ],
)
def test_sizes_the_model_cannot_honour_name_size(size: str, requested: str, model: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        dimensions(size, requested=requested, model=model, schema=_schema(model))
    assert info.value.param == "size"


def test_png_and_jpeg_pass_anything_else_is_the_upstreams_error() -> None:
    assert sniff(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0....") == "image/jpeg"
    with pytest.raises(BadGatewayError):
        sniff(b"GIF89a")


def test_image_bytes_from_binary_and_json_answers() -> None:
    assert image_bytes(BinaryResult(b"raw", "image/png")) == b"raw"
    assert image_bytes({"image": base64.b64encode(b"enc").decode()}) == b"enc"
    for bad in ({"image": "not base64!"}, {"other": 1}, None):
        with pytest.raises(BadGatewayError):
            image_bytes(bad)
