"""One image GET over a socket we connected ourselves to an already vetted address.

No HTTP library chooses where to connect: the injected `Connector` is handed the vetted IP, so
nothing resolves the host a second time (DNS rebinding), and TLS is still verified for the URL's
host name (SNI and the certificate's name, normal CA checks) although TCP goes to an IP address.
`http.client.HTTPResponse` parses the answer. Every socket is attached to the thread's cancel
scope, so a deadline or a departed client shuts it down and wakes a blocked read at once; each
blocking call also gets the time left as its socket timeout.

    Failure          what happened                                  the client sees
    ├── Unreachable  resolve/connect/TLS/protocol failure, refused  one message for all
    ├── Interrupted  the scope was cancelled or the deadline passed  timeout (or nothing)
    └── Rejected     a public server's answer we will not use       its own message
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from functools import cache

from requests.utils import DEFAULT_CA_BUNDLE_PATH

from openai_cf import cancel
from openai_cf.services.image_address import IPAddress
from openai_cf.services.image_url import ImageURL

# connect(ip, port, timeout) -> a connected TCP socket; tests connect to loopback instead.
Connector = Callable[[str, int, float], socket.socket]

_CHUNK = 64 * 1024


class Failure(Exception):
    pass


class Unreachable(Failure):
    """Nothing usable at that address; the reason is logged, never shown (it would map ports)."""


class Interrupted(Failure):
    """The download's scope was cancelled: the deadline passed, a sibling failed, or the client left."""


class Rejected(Failure):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def connect_tcp(ip: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to an IP address: no name, so no DNS lookup can happen here."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((ip, port))
    except BaseException:
        sock.close()
        raise
    return sock


@cache
def default_tls_context() -> ssl.SSLContext:
    """Certificate and host name verification against the CA bundle `requests` has always used."""
    return ssl.create_default_context(cafile=DEFAULT_CA_BUNDLE_PATH)


class Deadline:
    def __init__(self, seconds: float) -> None:
        self._at = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self._at - time.monotonic())

    def remaining(self) -> float:
        """Seconds left, for the next blocking call's timeout (`Interrupted` when none are)."""
        left = self.left()
        if left <= 0:
            raise Interrupted("deadline")
        return left

    @property
    def passed(self) -> bool:
        return self.left() <= 0


class ByteBudget:
    """The bytes all downloads of one request may still take, shared by their threads."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._left = total
        self._lock = threading.Lock()

    def take(self, size: int) -> bool:
        with self._lock:
            self._left -= size
            return self._left >= 0


class Download:
    def __init__(self, connect: Connector, tls: ssl.SSLContext, deadline: Deadline, budget: ByteBudget) -> None:
        self.connect = connect
        self.tls = tls
        self.deadline = deadline
        self.budget = budget

    def get(self, url: ImageURL, addresses: Sequence[IPAddress], max_bytes: int) -> tuple[str, bytes]:
        """(content type, body) of a 200 image answer from the first address that connects."""
        scope = cancel.current() or cancel.CancelScope()
        sock = self._open(url, addresses, scope)
        response: http.client.HTTPResponse | None = None
        try:
            sock.settimeout(self.deadline.remaining())
            sock.sendall(_request(url))
            response = http.client.HTTPResponse(sock, method="GET")
            response.begin()
            content_type = _check_head(response, max_bytes)
            if response.length is not None and response.length > self.budget.total:
                raise over_budget(self.budget.total)
            return content_type, self._body(response, sock, max_bytes, scope)
        except (OSError, http.client.HTTPException) as exc:
            if self._stopped(scope):
                raise Interrupted("cancelled") from exc
            raise Unreachable(type(exc).__name__) from exc
        finally:
            scope.detach(sock)
            if response is not None:
                response.close()
            sock.close()

    def _stopped(self, scope: cancel.CancelScope) -> bool:
        # A socket timeout at the deadline may come just before the timer cancels the scope.
        return scope.cancelled or self.deadline.passed

    def _open(self, url: ImageURL, addresses: Sequence[IPAddress], scope: cancel.CancelScope) -> socket.socket:
        reasons = []
        for ip in addresses:
            try:
                sock = self.connect(str(ip), url.port, self.deadline.remaining())
            except OSError as exc:
                if self._stopped(scope):
                    raise Interrupted("cancelled") from exc
                reasons.append(type(exc).__name__)
                continue
            scope.attach(sock)
            return self._tls(sock, url, scope) if url.scheme == "https" else sock
        raise Unreachable("connect: " + ",".join(reasons))

    def _tls(self, sock: socket.socket, url: ImageURL, scope: cancel.CancelScope) -> socket.socket:
        # The handshake runs after the TLS socket is attached: `wrap_socket` moves the file
        # descriptor to a new object, so shutting down the old one would no longer wake it.
        try:
            tls = self.tls.wrap_socket(sock, server_hostname=url.host, do_handshake_on_connect=False)
        except (OSError, ValueError) as exc:
            scope.detach(sock)
            sock.close()
            raise Unreachable("tls") from exc
        scope.detach(sock)
        scope.attach(tls)
        try:
            tls.settimeout(self.deadline.remaining())
            tls.do_handshake()
        except (OSError, Interrupted) as exc:
            scope.detach(tls)
            tls.close()
            if isinstance(exc, Interrupted) or self._stopped(scope):
                raise Interrupted("cancelled") from exc
            raise Unreachable(type(exc).__name__) from exc
        return tls

    def _body(
        self, response: http.client.HTTPResponse, sock: socket.socket, max_bytes: int, scope: cancel.CancelScope
    ) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            sock.settimeout(self.deadline.remaining())
            chunk = response.read1(min(_CHUNK, max_bytes + 1 - size))
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise too_large(max_bytes)
            if not self.budget.take(len(chunk)):
                raise over_budget(self.budget.total)
            chunks.append(chunk)
        # A shut-down socket reads as a clean end of the body: only the scope tells them apart.
        if self._stopped(scope):
            raise Interrupted("cancelled")
        if response.length:
            raise Unreachable("incomplete body")
        return b"".join(chunks)


def too_large(max_bytes: int) -> Rejected:
    return Rejected(f"The image is larger than {_size(max_bytes)}.", "image_too_large")


def over_budget(total: int) -> Rejected:
    return Rejected(f"The images of this request are larger than {_size(total)} in total.", "image_too_large")


def _size(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB" if size >= 1024 * 1024 else f"{size} bytes"


def _check_head(response: http.client.HTTPResponse, max_bytes: int) -> str:
    if response.status != 200:
        raise Rejected(f"The image server answered HTTP {response.status}.", "invalid_image_url")
    content_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
    if not content_type.startswith("image/"):
        raise Rejected("The image URL does not point to an image.", "invalid_image_format")
    if (response.getheader("Content-Encoding") or "identity").strip().lower() != "identity":
        raise Rejected("The image server sent a compressed body although we asked for none.", "invalid_image_url")
    if response.length is not None and response.length > max_bytes:
        raise too_large(max_bytes)
    return content_type


def _request(url: ImageURL) -> bytes:
    # Every part was validated as printable ASCII without spaces by the URL parser.
    lines = [
        f"GET {url.target} HTTP/1.1",
        f"Host: {url.host_header}",
        "User-Agent: openai-cf",
        "Accept: image/*",
        "Accept-Encoding: identity",
        "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
