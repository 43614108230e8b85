"""Images in chat: data URLs passed on, https URLs fetched by the bridge, text-only models refuse."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openai
import pytest
from openai import OpenAI

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


class _ImageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/cat.png":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def image_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ImageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def image_message(url: str) -> list[dict[str, object]]:
    return [{"role": "user", "content": [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": url}},
    ]}]  # fmt: skip


def test_data_url_goes_to_a_vision_model(client: OpenAI) -> None:
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    completion = client.chat.completions.create(model="gpt-4o", messages=image_message(url))  # type: ignore[arg-type]
    assert completion.choices[0].message.content


def test_http_url_is_fetched_and_inlined(client: OpenAI, image_server: str) -> None:
    completion = client.chat.completions.create(model="gpt-4.1", messages=image_message(f"{image_server}/cat.png"))  # type: ignore[arg-type]
    assert completion.choices[0].message.content


def test_unreachable_image_is_a_400_naming_the_part(client: OpenAI, image_server: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o", messages=image_message(f"{image_server}/missing.png"))  # type: ignore[arg-type]
    assert info.value.param == "messages[0].content[1].image_url.url"


def test_text_only_model_refuses_images_instead_of_dropping_them(client: OpenAI) -> None:
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=image_message(url))  # type: ignore[arg-type]
    assert info.value.param == "messages[0].content[1]"
