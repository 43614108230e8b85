"""POST /v1/images/edits and /v1/images/variations through the official SDK (multipart)."""

from __future__ import annotations

import base64

import openai
import pytest
import requests
from openai import OpenAI

from openai_cf.local.emulator.images import tiny_png
from tests.contract.validate import assert_matches

PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9"  # the signature is all the bridge checks
SOURCE = tiny_png(b"source")
MASK = tiny_png(b"mask")


def _png(answer: openai.types.ImagesResponse) -> bytes:
    assert answer.data is not None
    return base64.b64decode(answer.data[0].b64_json or "")


def test_edit_with_img2img_answers_base64(client: OpenAI) -> None:
    answer = client.images.edit(
        image=("in.png", SOURCE, "image/png"), prompt="make it snow", response_format="b64_json", size="512x512"
    )
    assert _png(answer).startswith(PNG)


def test_edit_with_a_mask_and_image_list_answers_a_link(client: OpenAI) -> None:
    # Given the SDK's list form (`image[]` parts) and a mask: the inpainting model, a url answer
    answer = client.images.edit(
        image=[("in.jpg", JPEG, "image/jpeg")], mask=("mask.png", MASK, "image/png"), prompt="add a boat", n=2
    )
    assert answer.data is not None and len(answer.data) == 2
    opened = requests.get(answer.data[0].url or "", timeout=10)
    assert opened.status_code == 200
    assert opened.content.startswith(PNG)


def test_edit_with_a_named_img2img_model(client: OpenAI) -> None:
    answer = client.images.edit(
        model="@cf/runwayml/stable-diffusion-v1-5-img2img", image=("in.png", SOURCE, "image/png"),
        prompt="as a watercolour", response_format="b64_json",
    )  # fmt: skip
    assert _png(answer).startswith(PNG)


def test_variation_answers_n_images(client: OpenAI) -> None:
    answer = client.images.create_variation(image=("in.png", SOURCE, "image/png"), n=2, response_format="b64_json")
    assert answer.data is not None and len(answer.data) == 2
    assert all(base64.b64decode(d.b64_json or "").startswith(PNG) for d in answer.data)


def test_edit_and_variation_answers_match_openais_schema(base_url: str) -> None:
    auth = {"Authorization": "Bearer sk-test-token"}
    files = {"image": ("in.png", SOURCE, "image/png")}
    for path, data in (("edits", {"prompt": "x", "response_format": "b64_json"}), ("variations", {"n": "1"})):
        answer = requests.post(f"{base_url}/images/{path}", data=data, files=files, headers=auth, timeout=10)
        assert answer.status_code == 200, answer.text
        assert_matches("ImagesResponse", answer.json())


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"image": ("in.png", b"", "image/png")}, "image"),  # empty
        ({"image": ("in.txt", b"not a picture", "text/plain")}, "image"),  # not an image
        ({"image": [("a.png", SOURCE, "image/png"), ("b.png", SOURCE, "image/png")]}, "image"),  # one only
        ({"mask": ("mask.jpg", JPEG, "image/jpeg")}, "mask"),  # masks are PNG
        ({"mask": ("mask.png", b"", "image/png")}, "mask"),
        ({"size": "100x100"}, "size"),  # not a dall-e-2 size
        ({"model": "@cf/stabilityai/stable-diffusion-xl-base-1.0", "size": "4000x4000"}, "size"),
        ({"model": "@cf/black-forest-labs/flux-1-schnell"}, "model"),  # text-to-image only
        ({"n": 11}, "n"),
        ({"response_format": "png"}, "response_format"),
        ({"prompt": ""}, "prompt"),
    ],
)
def test_bad_edits_are_400_naming_the_param(client: OpenAI, kwargs: dict[str, object], param: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.images.edit(**{"image": ("in.png", SOURCE, "image/png"), "prompt": "x", **kwargs})  # type: ignore[arg-type]
    assert info.value.param == param


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"image": ("in.png", b"", "image/png")}, "image"),
        ({"image": ("in.gif", b"GIF89a....", "image/gif")}, "image"),
        ({"size": "64x64"}, "size"),
        ({"n": 0}, "n"),
    ],
)
def test_bad_variations_are_400_naming_the_param(client: OpenAI, kwargs: dict[str, object], param: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.images.create_variation(**{"image": ("in.png", SOURCE, "image/png"), **kwargs})  # type: ignore[arg-type]
    assert info.value.param == param


def test_missing_image_is_400_naming_it(base_url: str) -> None:
    auth = {"Authorization": "Bearer sk-test-token"}
    for path, data in (("edits", {"prompt": "x"}), ("variations", {"n": "1"})):
        answer = requests.post(
            f"{base_url}/images/{path}", data=data, files={"other": ("x", b"x")}, headers=auth, timeout=10
        )
        assert answer.status_code == 400
        assert answer.json()["error"]["param"] == "image"


def test_an_image_over_the_binary_limit_is_413(client: OpenAI) -> None:
    big = SOURCE + b"\x00" * (5 * 1024 * 1024)
    for call in (
        lambda: client.images.edit(image=("big.png", big, "image/png"), prompt="x"),
        lambda: client.images.create_variation(image=("big.png", big, "image/png")),
    ):
        with pytest.raises(openai.APIStatusError) as info:
            call()
        assert info.value.status_code == 413
