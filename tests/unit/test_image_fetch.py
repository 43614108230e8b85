from __future__ import annotations

import pytest

from openai_cf.errors import InvalidRequestError
from openai_cf.services.image_fetch import ImageFetcher


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.0.0.5", "192.168.1.1", "169.254.169.254", "::1", "fd00::1", "100.64.0.1"]
)
def test_private_and_metadata_addresses_are_refused(address: str) -> None:
    fetcher = ImageFetcher(resolver=lambda host, port: [address])
    with pytest.raises(InvalidRequestError) as info:
        fetcher.to_data_url("https://internal.example/x.png", param="p")
    assert info.value.param == "p"


def test_a_host_with_any_private_address_is_refused() -> None:
    fetcher = ImageFetcher(resolver=lambda host, port: ["93.184.216.34", "10.1.1.1"])
    with pytest.raises(InvalidRequestError):
        fetcher.to_data_url("https://mixed.example/x.png", param="p")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x/y.png", "gopher://x", "https://"])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(InvalidRequestError):
        ImageFetcher().to_data_url(url, param="p")


def test_data_urls_pass_through_untouched() -> None:
    assert ImageFetcher().to_data_url("data:image/png;base64,AA", param="p") == "data:image/png;base64,AA"


def test_slow_and_oversized_downloads_are_cut_off() -> None:
    import io

    import requests
    from requests.structures import CaseInsensitiveDict

    class Dripping(requests.Session):
        def get(self, url: str | bytes, **kwargs: object) -> requests.Response:  # type: ignore[override]
            response = requests.Response()
            response.status_code = 200
            response.headers = CaseInsensitiveDict({"Content-Type": "image/png"})
            response.raw = io.BytesIO(b"x" * 300_000)
            return response

    public = {"resolver": lambda host, port: ["93.184.216.34"], "session": Dripping()}
    with pytest.raises(InvalidRequestError, match="larger than"):
        ImageFetcher(max_bytes=100_000, **public).to_data_url("https://cdn.example/a.png", param="p")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="longer than"):
        ImageFetcher(timeout=-1, **public).to_data_url("https://cdn.example/a.png", param="p")  # type: ignore[arg-type]
    ok = ImageFetcher(**public).to_data_url("https://cdn.example/a.png", param="p")  # type: ignore[arg-type]
    assert ok.startswith("data:image/png;base64,")
