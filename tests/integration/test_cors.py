"""A browser app against the local stack (`OPENAI_CF_CORS_ALLOWED_ORIGINS`): what a browser checks,
over real HTTP, including a streamed answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from openai_cf.api.server import BackgroundServer

from .conftest import TOKEN, start_api

ORIGIN = "http://localhost:5173"


@pytest.fixture(scope="module")
def browser_api(emulator: BackgroundServer) -> Iterator[str]:
    server = start_api(emulator, cors_allowed_origins=(ORIGIN,))
    yield f"{server.url}/v1"
    server.stop()


def test_the_preflight_of_a_streamed_chat_is_answered(browser_api: str) -> None:
    # When the browser asks whether openai-node's request may be sent
    response = requests.options(
        f"{browser_api}/chat/completions",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-stainless-retry-count",
        },
        timeout=10,
    )
    # Then it may, without a key
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] == "Authorization, *"


def test_a_streamed_answer_is_readable_by_the_page(browser_api: str) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    headers = {"Authorization": f"Bearer {TOKEN}", "Origin": ORIGIN}
    url = f"{browser_api}/chat/completions"
    with requests.post(url, json=body, headers=headers, stream=True, timeout=20) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["access-control-allow-origin"] == ORIGIN
        assert "x-request-id" in response.headers["access-control-expose-headers"]
        assert b"data: [DONE]" in b"".join(response.iter_content(chunk_size=None))


def test_another_site_is_granted_nothing(browser_api: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Origin": "https://elsewhere.example"}
    response = requests.get(f"{browser_api}/models", headers=headers, timeout=10)
    assert "access-control-allow-origin" not in response.headers
