"""Fetching `https` image URLs for vision models (Workers AI accepts only `data:` URLs).

The SSRF guard: only http(s), only hosts whose every resolved address is public, no redirects,
a size cap and a time cap. (DNS could still change between our check and the connection; pinning
the checked address is a follow-up.)
"""

from __future__ import annotations

import base64
import ipaddress
import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests

from openai_cf.errors import InvalidRequestError

Resolver = Callable[[str, int], list[str]]


def _resolve(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


class ImageFetcher:
    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        max_bytes: int = 10 * 1024 * 1024,
        timeout: float = 10.0,
        allow_private: bool = False,
        resolver: Resolver = _resolve,
    ) -> None:
        self._session = session or requests.Session()
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._allow_private = allow_private
        self._resolver = resolver

    def to_data_url(self, url: str, *, param: str) -> str:
        if url.startswith("data:"):
            return url
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidRequestError(
                "Image URLs must be https:// or data: URLs.", param=param, code="invalid_image_url"
            )
        self._check_host(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), param)
        try:
            response = self._session.get(url, timeout=self._timeout, stream=True, allow_redirects=False)
        except requests.RequestException as exc:
            raise InvalidRequestError(
                f"Could not download the image at {url}.", param=param, code="invalid_image_url"
            ) from exc
        with response:
            if response.status_code != 200:
                raise InvalidRequestError(
                    f"Downloading the image at {url} failed with HTTP {response.status_code}.",
                    param=param,
                    code="invalid_image_url",
                )
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            if not content_type.startswith("image/"):
                raise InvalidRequestError(f"The URL {url} is not an image.", param=param, code="invalid_image_format")
            body = self._read_capped(response, param)
        return f"data:{content_type};base64,{base64.b64encode(body).decode()}"

    def _read_capped(self, response: requests.Response, param: str) -> bytes:
        # requests' timeout bounds each socket wait, not the whole download: a server dripping
        # bytes could hold the request for ever without this deadline.
        deadline = time.monotonic() + self._timeout
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=65536):
            if time.monotonic() > deadline:
                raise InvalidRequestError(
                    f"Downloading the image took longer than {self._timeout:g} s.",
                    param=param,
                    code="invalid_image_url",
                )
            size += len(chunk)
            if size > self._max_bytes:
                raise InvalidRequestError(
                    f"The image is larger than {self._max_bytes // (1024 * 1024)} MB.",
                    param=param,
                    code="image_too_large",
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _check_host(self, host: str, port: int, param: str) -> None:
        if self._allow_private:
            return
        try:
            addresses = self._resolver(host, port)
        except OSError as exc:
            raise InvalidRequestError(
                f"Could not resolve the image host {host}.", param=param, code="invalid_image_url"
            ) from exc
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not ip.is_global:
                raise InvalidRequestError(
                    "Image URLs must point to public addresses.", param=param, code="invalid_image_url"
                )
