"""CORS for browser clients (openai-node with `dangerouslyAllowBrowser`): off unless origins are set.

On AWS, API Gateway answers the preflight `OPTIONS` itself (a MOCK integration per resource, see
infra/constructs/api.py), but every real answer streams through a Lambda proxy integration, so its
CORS headers must come from the app: this middleware adds them for allowed origins. Locally
(`openai-cf serve`) it answers the preflight too, so a browser app works against the local stack
with the same setting (`OPENAI_CF_CORS_ALLOWED_ORIGINS`).

It is the outermost middleware: 401s, 413s and the last-resort 500 carry the headers as well, so a
browser reads OpenAI's error envelope instead of an opaque network error. The constants below are
shared with the gateway's preflight and error responses (and import nothing, so `infra/` can).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("openai_cf.access")

# What the SDKs read from a response: the request id, retry hints and the runs poll interval.
EXPOSED_HEADERS = (
    "x-request-id",
    "openai-processing-ms",
    "openai-version",
    "openai-poll-after-ms",
    "retry-after",
    "retry-after-ms",
    "x-should-retry",
)
# The SDKs send `Authorization` and a set of `x-stainless-*` headers that grows with SDK versions.
# `*` allows any header of a request without credentials (the SDKs send none), except
# `Authorization`, which the Fetch standard requires to be named.
ALLOWED_HEADERS = ("Authorization", "*")
# How long a browser may reuse a preflight answer: Chromium's cap (Firefox allows longer).
MAX_AGE_SECONDS = 7200


class Cors:
    def __init__(self, app: ASGIApp, *, origins: Callable[[], Sequence[str]], methods: Sequence[str]) -> None:
        self.app = app
        self.origins = origins
        self.methods = ", ".join(sorted({*methods, "OPTIONS"}))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = _header(scope, b"origin") if scope["type"] == "http" else None
        allowed = self._allow_origin(origin) if origin else None
        if allowed is None:
            await self.app(scope, receive, send)
            return
        headers = [(b"access-control-allow-origin", allowed.encode())]
        if allowed != "*":
            headers.append((b"vary", b"Origin"))
        if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method"):
            await self._preflight(send, headers)
            return
        headers.append((b"access-control-expose-headers", ", ".join(EXPOSED_HEADERS).encode()))

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _allow_origin(self, origin: str) -> str | None:
        """The `Access-Control-Allow-Origin` value for `origin`, or None (not allowed, or CORS off)."""
        try:
            origins = self.origins()
        except Exception:
            # Settings could not be read (a failed secret fetch): the request goes on, and the
            # request context answers it with the 500 envelope and logs why.
            logger.warning("CORS origins unavailable")
            return None
        if "*" in origins:
            return "*"
        return origin if origin in origins else None

    async def _preflight(self, send: Send, headers: list[tuple[bytes, bytes]]) -> None:
        headers += [
            (b"access-control-allow-methods", self.methods.encode()),
            (b"access-control-allow-headers", ", ".join(ALLOWED_HEADERS).encode()),
            (b"access-control-max-age", str(MAX_AGE_SECONDS).encode()),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value).decode("latin-1")
    return None
