"""The emulator's Text-to-Image task: valid tiny PNGs, raw or base64 as each model's schema says."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from openai_cf.local.emulator import create_app

AUTH = {"Authorization": "Bearer emulator-token"}
BASE = "/client/v4/accounts/acct-123/ai/run"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(api_token="emulator-token")) as test_client:
        yield test_client


def _decoded_pixels(png: bytes) -> bytes:
    # Given a PNG, walk its chunks checking each CRC, and return the inflated image data
    assert png.startswith(PNG)
    at, data = len(PNG), b""
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, body = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IDAT":
            data += body
        at += 12 + length
    return zlib.decompress(data)


def test_stable_diffusion_answers_raw_png_bytes(client: TestClient) -> None:
    answer = client.post(f"{BASE}/@cf/lykon/dreamshaper-8-lcm", json={"prompt": "a fox", "width": 512}, headers=AUTH)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    assert len(_decoded_pixels(answer.content)) == 8 * (1 + 8 * 3)


def test_flux_answers_base64_json_and_is_deterministic(client: TestClient) -> None:
    model = f"{BASE}/@cf/black-forest-labs/flux-1-schnell"
    first = client.post(model, json={"prompt": "a fox"}, headers=AUTH).json()
    again = client.post(model, json={"prompt": "a fox"}, headers=AUTH).json()
    other = client.post(model, json={"prompt": "a hen"}, headers=AUTH).json()
    assert first["success"] is True
    assert base64.b64decode(first["result"]["image"]).startswith(PNG)
    assert first == again
    assert other != first


def test_flux_refuses_width_as_its_schema_does(client: TestClient) -> None:
    answer = client.post(
        f"{BASE}/@cf/black-forest-labs/flux-1-schnell", json={"prompt": "x", "width": 256}, headers=AUTH
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == 5006
