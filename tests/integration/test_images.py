"""POST /v1/images/generations through the official SDK: base64 and presigned links, sizes, `n`."""

from __future__ import annotations

import base64

import openai
import pytest
import requests
from openai import OpenAI

from tests.contract.validate import assert_matches

PNG = b"\x89PNG\r\n\x1a\n"
SD = "@cf/stabilityai/stable-diffusion-xl-base-1.0"


def test_b64_json_decodes_to_a_png(client: OpenAI) -> None:
    # Given flux-1-schnell behind dall-e-2, which answers base64 JSON upstream
    response = client.images.generate(model="dall-e-2", prompt="a red fox", response_format="b64_json")
    # Then the SDK reads one image whose bytes are a PNG
    assert response.created > 0
    assert len(response.data) == 1
    assert base64.b64decode(response.data[0].b64_json or "").startswith(PNG)
    assert response.data[0].url is None


def test_binary_png_models_answer_base64_too(client: OpenAI) -> None:
    response = client.images.generate(model=SD, prompt="a lighthouse", size="512x768", response_format="b64_json")
    assert base64.b64decode(response.data[0].b64_json or "").startswith(PNG)


def test_url_opens_without_a_token_over_loopback(client: OpenAI) -> None:
    # Given a link answer (dall-e-2's default format)
    response = client.images.generate(model="dall-e-2", prompt="a blue whale")
    url = response.data[0].url or ""
    assert url.startswith("http://127.0.0.1")
    assert "X-Amz-Expires=3600" in url
    # When it is opened with no Authorization header
    opened = requests.get(url, timeout=10)
    # Then the image comes back
    assert opened.status_code == 200
    assert opened.headers["content-type"] == "image/png"
    assert opened.content.startswith(PNG)


def test_n_images_are_distinct_upstream_calls(client: OpenAI) -> None:
    response = client.images.generate(model=SD, prompt="a cat", n=3, response_format="b64_json")
    images = [r.b64_json for r in response.data]
    assert len(images) == 3
    assert len(set(images)) == 3  # each call got its own seed


def test_dall_e_3_revises_nothing_but_says_so(client: OpenAI) -> None:
    response = client.images.generate(
        model="dall-e-3", prompt="a quiet harbour", quality="hd", style="natural", response_format="b64_json"
    )
    assert response.data[0].revised_prompt == "a quiet harbour"


def test_gpt_image_1_answers_base64_by_default(client: OpenAI) -> None:
    response = client.images.generate(model="gpt-image-1", prompt="a paper crane", size="1536x1024", quality="low")
    assert base64.b64decode(response.data[0].b64_json or "").startswith(PNG)


def test_answers_match_openais_schema(base_url: str) -> None:
    for body in ({"prompt": "x", "response_format": "b64_json"}, {"prompt": "x", "model": "dall-e-3"}):
        answer = requests.post(
            f"{base_url}/images/generations", json=body, headers={"Authorization": "Bearer sk-test-token"}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        assert_matches("ImagesResponse", answer.json())


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"model": "dall-e-2", "size": "256x256"}, "size"),  # flux-1-schnell makes 1024x1024 only
        ({"model": "dall-e-3", "size": "512x512"}, "size"),  # not a dall-e-3 size
        ({"model": SD, "size": "4096x4096"}, "size"),  # beyond the model's 2048
        ({"model": SD, "size": "big"}, "size"),
        ({"model": "dall-e-3", "n": 2}, "n"),
        ({"model": "dall-e-2", "n": 11}, "n"),
        ({"model": "dall-e-2", "response_format": "png"}, "response_format"),
        ({"model": "dall-e-2", "quality": "ultra"}, "quality"),
        ({"model": "dall-e-2", "style": "pastel"}, "style"),
        ({"model": "dall-e-2", "prompt": "x" * 2049}, "prompt"),  # flux's 2048 characters
        ({"model": "dall-e-2", "prompt": ""}, "prompt"),
        ({"model": "gpt-4o"}, "model"),  # a chat model
    ],
)
def test_bad_inputs_are_400_naming_the_param(client: OpenAI, kwargs: dict[str, object], param: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.images.generate(**{"prompt": "a tree", "response_format": "b64_json", **kwargs})  # type: ignore[arg-type]
    assert info.value.param == param


def test_unknown_model_is_404(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.images.generate(model="@cf/nobody/no-such-model", prompt="x")


def test_an_upstream_answer_that_is_no_image_is_a_502(client: OpenAI) -> None:
    for model in ("dall-e-2", SD):
        with pytest.raises(openai.InternalServerError) as info:
            client.images.generate(model=model, prompt="x emulate:not_image", response_format="b64_json")
        assert info.value.status_code == 502
