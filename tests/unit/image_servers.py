"""Loopback image servers and a fake network for the image fetcher's tests.

`FakeNet` resolves names from a table and "connects" to any address by opening a loopback socket
to the URL's port instead, recording what it was asked: tests prove which address was vetted and
connected to while no packet leaves 127.0.0.1.
"""

from __future__ import annotations

import base64
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PUBLIC_IP = "93.184.216.34"


class FakeNet:
    def __init__(self, answers: dict[str, list[str]] | None = None) -> None:
        self.answers = answers if answers is not None else {"images.example": [PUBLIC_IP]}
        self.resolved: list[tuple[str, int]] = []
        self.connected: list[tuple[str, int]] = []

    def resolve(self, host: str, port: int) -> list[str]:
        self.resolved.append((host, port))
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.answers[host]

    def connect(self, ip: str, port: int, timeout: float) -> socket.socket:
        self.connected.append((ip, port))
        return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _drip(handler: BaseHTTPRequestHandler, data: bytes, every: float = 0.5) -> None:
    try:
        for byte in data:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(every)
    except OSError:
        pass  # the fetcher hung up: that is the point


class ImageHandler(BaseHTTPRequestHandler):
    """Paths: /cat.png, /slow.png (0.5 s), /bytes/N, /stream/N (no length), /chunked/N,
    /trickle.png, /slow-headers, /declared-huge.png, /page.html, /gzip.png, /redirect, else 404."""

    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:
        ImageHandler.seen.append((self.path, self.headers.get("Host")))
        name, _, arg = self.path.split("?")[0].lstrip("/").partition("/")
        route = getattr(self, "_" + name.replace(".", "_").replace("-", "_"), None)
        if route is None:
            self._raw(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        else:
            route(arg)

    def _raw(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def _head(self, *headers: str, status: str = "200 OK") -> bytes:
        return (
            f"HTTP/1.1 {status}\r\n" + "".join(h + "\r\n" for h in ("Connection: close", *headers)) + "\r\n"
        ).encode()

    def _cat_png(self, _: str) -> None:
        self._raw(self._head("Content-Type: image/png", f"Content-Length: {len(PNG)}") + PNG)

    def _slow_png(self, arg: str) -> None:
        time.sleep(0.5)
        self._cat_png(arg)

    def _bytes(self, arg: str) -> None:
        self._raw(self._head("Content-Type: image/png", f"Content-Length: {arg}") + b"x" * int(arg))

    def _stream(self, arg: str) -> None:
        self._raw(self._head("Content-Type: image/jpeg"))
        try:
            for start in range(0, int(arg), 65536):
                self._raw(b"y" * min(65536, int(arg) - start))
        except OSError:
            pass

    def _chunked(self, arg: str) -> None:
        body = b"z" * int(arg)
        self._raw(self._head("Content-Type: image/gif", "Transfer-Encoding: chunked"))
        self._raw(
            b"".join(b"%x\r\n%s\r\n" % (len(body[i : i + 1000]), body[i : i + 1000]) for i in range(0, len(body), 1000))
        )
        self._raw(b"0\r\n\r\n")

    def _trickle_png(self, _: str) -> None:
        self._raw(self._head("Content-Type: image/png"))
        _drip(self, b"t" * 120)

    def _slow_headers(self, _: str) -> None:
        _drip(self, b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nX-Padding: " + b"p" * 120)

    def _declared_huge_png(self, _: str) -> None:
        self._raw(self._head("Content-Type: image/png", "Content-Length: 1000000000"))
        _drip(self, b"h" * 60)

    def _page_html(self, _: str) -> None:
        self._raw(self._head("Content-Type: text/html", "Content-Length: 2") + b"hi")

    def _gzip_png(self, _: str) -> None:
        self._raw(self._head("Content-Type: image/png", "Content-Encoding: gzip", "Content-Length: 2") + b"gz")

    def _redirect(self, _: str) -> None:
        self._raw(self._head("Location: http://127.0.0.1/cat.png", "Content-Length: 0", status="302 Found"))

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def image_server(tls: ssl.SSLContext | None = None) -> Iterator[int]:
    """A loopback image server (TLS with `tls`, a server-side context); yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), ImageHandler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
