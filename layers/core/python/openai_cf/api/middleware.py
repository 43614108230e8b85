"""Pure ASGI middleware (no BaseHTTPMiddleware: it buffers and costs latency).

`RequestContext` gives every response `x-request-id`, `openai-processing-ms` and `openai-version`,
logs one structured line per request (never bodies or keys; with the `TimeToFirstByte` metric),
and turns any failure that escaped the app into the OpenAI envelope. `BearerAuth` guards every
route with a constant-time compare.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openai_cf.api.logs import SERVICE, SERVICE_DIMENSIONS, TIME_TO_FIRST_BYTE
from openai_cf.api.responses import dumps, error_body
from openai_cf.errors import AuthenticationError, OpenAICFError, PayloadTooLargeError, unexpected_error

logger = logging.getLogger("openai_cf.access")


# API Gateway request ids are UUIDs; anything else in the header is not the platform's.
_PLATFORM_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_MAX_CONTEXT_BYTES = 16 * 1024


def platform_request_id(raw: bytes) -> str | None:
    """API Gateway's request id from the Lambda Web Adapter's `x-amzn-request-context`, if well formed.

    The adapter sets this header from the invocation event (replacing any the client sent), so it is
    trusted only behind the adapter; even then it is validated, because its value ends up in a
    response header and in logs.
    """
    if len(raw) > _MAX_CONTEXT_BYTES:
        return None
    try:
        context = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    request_id = context.get("requestId") if isinstance(context, dict) else None
    if isinstance(request_id, str) and _PLATFORM_REQUEST_ID.fullmatch(request_id):
        return f"req_{request_id.replace('-', '')}"
    return None


def _request_id(scope: Scope, trust_platform: bool) -> str:
    if trust_platform:
        for name, value in scope.get("headers") or ():
            if name == b"x-amzn-request-context":
                found = platform_request_id(value)
                if found is not None:
                    return found
                break
    return f"req_{secrets.token_hex(16)}"


def behind_web_adapter(env: Mapping[str, str]) -> bool:
    """True on Lambda behind the Lambda Web Adapter, the only place `x-amzn-request-context` is real."""
    return bool(env.get("AWS_LAMBDA_FUNCTION_NAME") and env.get("AWS_LWA_INVOKE_MODE"))


async def send_error(send: Send, error: OpenAICFError, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = dumps(error_body(error))
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in error.headers().items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})


class RequestContext:
    def __init__(
        self, app: ASGIApp, *, trust_platform: bool = False, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.app = app
        self.trust_platform = trust_platform
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = self.clock()
        request_id = _request_id(scope, self.trust_platform)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        response_started = False
        first_byte_ms: int | None = None

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started, first_byte_ms
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                elapsed = first_byte_ms = int((self.clock() - started) * 1000)
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                    (b"openai-processing-ms", str(elapsed).encode()),
                    (b"openai-version", b"2020-10-01"),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            logger.exception("unhandled error", extra={"request_id": request_id})
            if not response_started:
                await send_error(send_with_headers, unexpected_error(request_id))
        finally:
            logger.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    # Only paths that matched a route: anything else is whatever a client typed.
                    "path": scope.get("path") if "endpoint" in scope else None,
                    "status": status,
                    "latency_ms": round((self.clock() - started) * 1000, 2),
                    # Until the status line: the whole answer when buffered, the first event when streamed.
                    "service": SERVICE,
                    "metrics": {TIME_TO_FIRST_BYTE: first_byte_ms},
                    "dimensions": SERVICE_DIMENSIONS,
                },
            )


class BearerAuth:
    def __init__(self, app: ASGIApp, tokens: Callable[[], Sequence[str]]) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        presented = b""
        for name, value in scope.get("headers") or ():
            if name == b"authorization":
                presented = value
                break
        scheme, _, token = presented.partition(b" ")
        if scheme.lower() != b"bearer" or not token.strip():
            await send_error(
                send,
                _auth_error("You didn't provide an API key. Send it as 'Authorization: Bearer <token>'."),
            )
            return
        try:
            candidates = self.tokens()
        except OpenAICFError as exc:
            # The tokens' secret could not be read yet (`openai_cf.credentials`): a 500 that says so.
            await send_error(send, exc)
            return
        # Compare against every key without short-circuiting, each in constant time.
        matched: str | None = None
        for candidate in candidates:
            if hmac.compare_digest(token.strip(), candidate.encode()):
                matched = candidate
        if matched is None:
            await send_error(send, _auth_error("Incorrect API key provided."))
            return
        scope.setdefault("state", {})["owner"] = key_id(matched)
        await self.app(scope, receive, send)


def key_id(token: str) -> str:
    """The stable, non-secret name of an API key: recorded as the owner of what it stores."""
    return "key_" + hashlib.sha256(token.encode()).hexdigest()[:24]


def _auth_error(message: str) -> AuthenticationError:
    return AuthenticationError(message, should_retry=False)


class BodyLimit:
    """Refuse bodies over the limit before reading them: 6 MB for JSON (Lambda's invocation
    payload), less for binary bodies, which reach Lambda base64-encoded (`binary_limit`)."""

    def __init__(self, app: ASGIApp, max_bytes: Callable[[], int], binary_max_bytes: Callable[[], int]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.binary_max_bytes = binary_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = None
            binary = False
            for name, value in scope.get("headers") or ():
                if name == b"content-length" and value.isdigit():
                    length = int(value)
                elif name == b"content-type":
                    binary = value.lower().startswith(b"multipart/")
            limit = self.binary_max_bytes() if binary else self.max_bytes()
            if length is not None and length > limit:
                await send_error(send, too_large(limit, binary=binary))
                return
        await self.app(scope, receive, send)


def too_large(limit: int, *, binary: bool = False) -> PayloadTooLargeError:
    size = f"{limit / (1024 * 1024):.1f} MiB" if limit % (1024 * 1024) else f"{limit // (1024 * 1024)} MB"
    if binary:
        return PayloadTooLargeError(
            f"Request body is larger than the {size} limit for a binary body. Send larger files in parts "
            f"of at most {size} with the Uploads API (POST /v1/uploads; the SDK's "
            "uploads.upload_file_chunked with part_size=4 * 1024 * 1024)."
        )
    return PayloadTooLargeError(f"Request body is larger than the {size} limit.")
