"""Images in chat: data URLs passed on, https URLs fetched by the bridge, text-only models refuse."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openai
import pytest
from openai import OpenAI

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


BIG = PNG + b"\0" * 2000


class _ImageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow.png":
            time.sleep(0.5)
        if self.path in ("/cat.png", "/slow.png", "/big.png"):
            body = BIG if self.path == "/big.png" else PNG
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/trickle.png":
            self._trickle()
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def _trickle(self) -> None:
        # No Content-Length, then one byte every 0.5 s for a minute.
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        try:
            for _ in range(120):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass  # the bridge hung up

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


def image_message(*urls: str) -> list[dict[str, object]]:
    images = [{"type": "image_url", "image_url": {"url": url}} for url in urls]
    return [{"role": "user", "content": [{"type": "text", "text": "What is in this picture?"}, *images]}]


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


def test_too_many_images_are_a_400_naming_the_first_part_over_the_cap(sdk_for: Callable[..., OpenAI]) -> None:
    # Given an API allowing two images per request
    client = sdk_for(image_max_count=2)
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    # When a request carries three (data: URLs count too)
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o", messages=image_message(url, url, url))  # type: ignore[arg-type]
    # Then the third image part is named
    assert info.value.param == "messages[0].content[3]"
    assert info.value.code == "too_many_images"


def test_the_total_download_budget_is_a_400_naming_the_part_that_crossed_it(
    sdk_for: Callable[..., OpenAI], image_server: str
) -> None:
    # Given an API allowing 1,000 downloaded bytes per request
    client = sdk_for(image_fetch_max_total_bytes=1000)
    # When a small image and a 2 kB one are sent together
    messages = image_message(f"{image_server}/cat.png", f"{image_server}/big.png")
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o", messages=messages)  # type: ignore[arg-type]
    # Then the big one is named, and a request within the budget still answers
    assert info.value.param == "messages[0].content[2].image_url.url"
    assert info.value.code == "image_too_large"
    ok = client.chat.completions.create(model="gpt-4o", messages=image_message(f"{image_server}/cat.png"))  # type: ignore[arg-type]
    assert ok.choices[0].message.content


def test_a_url_that_parsers_read_differently_is_refused_not_fetched(
    sdk_for: Callable[..., OpenAI], image_server: str
) -> None:
    # Given the production guard (no private addresses) and a URL that urlsplit reads as 1.1.1.1
    # while urllib3 connects to the loopback image server
    client = sdk_for(image_fetch_allow_private=False)
    tricky = image_server + "\\@1.1.1.1/cat.png"
    # When it is sent, and the loopback URL itself too
    for url in (tricky, f"{image_server}/cat.png"):
        with pytest.raises(openai.BadRequestError) as info:
            client.chat.completions.create(model="gpt-4o", messages=image_message(url))  # type: ignore[arg-type]
        # Then both are refused, naming the part, without echoing where they point
        assert info.value.param == "messages[0].content[1].image_url.url"
        assert "127.0.0.1" not in info.value.message


def test_one_deadline_ends_a_trickling_download(sdk_for: Callable[..., OpenAI], image_server: str) -> None:
    # Given a 1 s budget for the downloads of a request, and a server dripping a byte every 0.5 s
    client = sdk_for(image_fetch_timeout=1.0)
    started = time.monotonic()
    # When its image is sent
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o", messages=image_message(f"{image_server}/trickle.png"))  # type: ignore[arg-type]
    # Then the request fails soon after the deadline (not after the minute the server would take)
    assert time.monotonic() - started < 4
    assert info.value.param == "messages[0].content[1].image_url.url"
    assert info.value.code == "image_download_timeout"


def test_the_images_of_a_request_download_concurrently(client: OpenAI, image_server: str) -> None:
    # Given four images the server delays by 0.5 s each
    started = time.monotonic()
    messages = image_message(*[f"{image_server}/slow.png"] * 4)
    # When they are sent in one request
    completion = client.chat.completions.create(model="gpt-4o", messages=messages)  # type: ignore[arg-type]
    # Then they take about one delay, not four
    assert completion.choices[0].message.content
    assert time.monotonic() - started < 1.5
