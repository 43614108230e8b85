"""The Workers AI REST client, on one pooled `requests.Session`.

`run` returns a model's `result` (or raw bytes for binary outputs); `stream` opens an SSE answer
and returns it once the first byte has arrived, so that failures before it are still plain HTTP
errors for our caller. Both retry 408/429(3040)/5xx and connection failures with jittered
exponential backoff that honours `Retry-After`, never 3036 (daily quota), and translate every
failure into the project's error hierarchy where it enters.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from openai_cf import cancel
from openai_cf import errors as e
from openai_cf.workers_ai.errors import UpstreamFailure, parse_failure
from openai_cf.workers_ai.sse import iter_events
from openai_cf.workers_ai.transport import CancellableAdapter

CLOUDFLARE_API = "https://api.cloudflare.com/client/v4"
_MAX_BACKOFF = 8.0
# A Retry-After beyond this is not worth holding the caller's request open for.
_MAX_HONOURED_RETRY_AFTER = 20.0


@dataclass(frozen=True)
class BinaryResult:
    content: bytes
    content_type: str


class UpstreamStream:
    """An open SSE answer. Iterate for decoded events (`sse.DONE` last when the stream said so)."""

    def __init__(self, response: requests.Response) -> None:
        self._response = response

    def __iter__(self) -> Iterator[Any]:
        try:
            yield from iter_events(self._response.iter_content(chunk_size=None))
        except (requests.RequestException, OSError) as exc:
            cancel.raise_if_cancelled()
            raise e.BadGatewayError("The Workers AI stream broke off before it ended.") from exc
        finally:
            self.close()

    def close(self) -> None:
        self._response.close()


class BinaryStream:
    """An open binary answer (speech audio): iterate for its bytes as they arrive."""

    CHUNK = 64 * 1024

    def __init__(self, response: requests.Response) -> None:
        self._response = response
        self.content_type = response.headers.get("Content-Type", "application/octet-stream").split(";")[0]

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._response.iter_content(chunk_size=self.CHUNK)
        except (requests.RequestException, OSError) as exc:
            cancel.raise_if_cancelled()
            raise e.BadGatewayError("The Workers AI audio stream broke off before it ended.") from exc
        finally:
            self.close()

    def close(self) -> None:
        self._response.close()


class WorkersAIClient:
    def __init__(
        self,
        *,
        base_url: str,
        account_id: str,
        api_token: str | Callable[[], str],
        gateway_id: str | None = None,
        session: requests.Session | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 120.0,
        max_retries: int = 2,
        sleep: Callable[[float], None] = cancel.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._base = base_url.rstrip("/")
        # A per-provider AI Gateway URL ends in /workers-ai and takes the model path directly; the
        # gateway has no catalogue routes, so those still go to the Cloudflare API.
        self._gateway_style = self._base.endswith("/workers-ai")
        self._api_base = CLOUDFLARE_API if self._gateway_style else self._base
        self._account = account_id
        self._session = session or _new_session(self._base)
        # A callable is asked before every call: the token may change in Secrets Manager while this
        # client lives (`openai_cf.credentials` caches it; asking costs a clock comparison).
        self._token: Callable[[], str] = api_token if callable(api_token) else _constant(api_token)
        self._headers = {"Content-Type": "application/json"}
        if gateway_id:
            self._headers["cf-aig-gateway-id"] = gateway_id
        self._timeout = (connect_timeout, read_timeout)
        self._max_retries = max_retries
        self._sleep = sleep
        self._jitter = jitter

    # -- public API -------------------------------------------------------------------------
    def run(self, model: str, payload: dict[str, Any], *, session: str | None = None) -> Any:
        """`session` routes related requests to one replica (`x-session-affinity`) for prefix caching."""
        response = self._send(
            "POST", self._run_url(model), json_body=payload, stream=False, model=model, session=session
        )
        content_type = response.headers.get("Content-Type", "")
        if content_type.startswith(("image/", "audio/", "application/octet-stream")):
            return BinaryResult(response.content, content_type.split(";")[0])
        return self._result(response, model)

    def stream(self, model: str, payload: dict[str, Any], *, session: str | None = None) -> UpstreamStream | Any:
        """Open a streamed run. Returns an `UpstreamStream`, or the plain `result` when the model
        answered `stream: true` with JSON (gpt-oss and Kimi sometimes do)."""
        body = {**payload, "stream": True}
        response = self._send("POST", self._run_url(model), json_body=body, stream=True, model=model, session=session)
        if response.headers.get("Content-Type", "").startswith("text/event-stream"):
            return UpstreamStream(response)
        try:
            return self._result(response, model)
        finally:
            response.close()

    def open_binary(self, model: str, payload: dict[str, Any]) -> BinaryStream | Any:
        """Run a model whose output is bytes (TTS) without holding them: a `BinaryStream` once the
        headers arrived, or the plain `result` when the model answered with a JSON envelope
        (melotts sends base64 audio that way)."""
        response = self._send("POST", self._run_url(model), json_body=payload, stream=True, model=model)
        content_type = response.headers.get("Content-Type", "")
        if content_type.startswith(("audio/", "application/octet-stream")):
            return BinaryStream(response)
        try:
            return self._result(response, model)
        finally:
            response.close()

    def search_models(self, *, task: str | None = None, per_page: int = 100) -> list[dict[str, Any]]:
        models: list[dict[str, Any]] = []
        for page in range(1, 51):
            params: dict[str, Any] = {"page": page, "per_page": per_page}
            if task:
                params["task"] = task
            response = self._send("GET", self._account_url("ai/models/search"), params=params)
            batch = self._result(response, None)
            if not isinstance(batch, list) or not batch:
                break
            models.extend(batch)
            if len(batch) < per_page:
                break
        return models

    def model_schema(self, model: str) -> dict[str, Any]:
        response = self._send("GET", self._account_url("ai/models/schema"), params={"model": model}, model=model)
        result = self._result(response, model)
        return result if isinstance(result, dict) else {}

    # -- plumbing -----------------------------------------------------------------------------
    def _run_url(self, model: str) -> str:
        # The model name goes into the path with its slashes, unencoded (workers-ai-contract 1).
        path = quote(model, safe="/@:.-_")
        if self._gateway_style:
            return f"{self._base}/{path}"
        return f"{self._base}/accounts/{self._account}/ai/run/{path}"

    def _account_url(self, tail: str) -> str:
        return f"{self._api_base}/accounts/{self._account}/{tail}"

    def _send(
        self,
        method: str,
        url: str,
        *,
        json_body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        stream: bool = False,
        model: str | None = None,
        session: str | None = None,
    ) -> requests.Response:
        headers = {**self._headers, "Authorization": f"Bearer {self._token()}"}
        if session:
            headers["x-session-affinity"] = affinity_key(session)
        attempt = 0
        while True:
            # An abandoned request (its client left) is never sent, nor sent again.
            cancel.raise_if_cancelled()
            try:
                response = self._session.request(
                    method, url, json=json_body, params=params, headers=headers,
                    timeout=self._timeout, stream=stream,
                )  # fmt: skip
            except requests.ConnectionError as exc:
                cancel.raise_if_cancelled()
                retryable = isinstance(exc, requests.ConnectTimeout) or _is_connect_failure(exc)
                if retryable and attempt < self._max_retries:
                    self._sleep(self._delay(attempt))
                    attempt += 1
                    continue
                raise e.BadGatewayError("Workers AI could not be reached.") from exc
            except requests.Timeout as exc:
                cancel.raise_if_cancelled()
                raise e.GatewayTimeoutError("Workers AI did not answer in time.") from exc
            if response.status_code < 400:
                return response
            failure = _failure(response)
            rule = failure.rule
            if attempt < min(self._max_retries, rule.upstream_retries):
                delay = self._backoff(attempt, failure.retry_after)
                if delay is not None:
                    self._sleep(delay)
                    attempt += 1
                    continue
            raise failure.to_error(model=model)

    def _backoff(self, attempt: int, retry_after: float | None) -> float | None:
        """The server's Retry-After when it is reasonable (None: too long to wait), else our own."""
        if retry_after is not None:
            return retry_after if retry_after <= _MAX_HONOURED_RETRY_AFTER else None
        return self._delay(attempt)

    def _delay(self, attempt: int) -> float:
        # Exponential with up to 25 % jitter, as the OpenAI SDK does.
        return float(min(0.5 * 2**attempt, _MAX_BACKOFF) * (1 - 0.25 * self._jitter()))

    @staticmethod
    def _result(response: requests.Response, model: str | None) -> Any:
        try:
            body = response.json()
        except ValueError as exc:
            raise e.BadGatewayError("Workers AI answered with a body that is not JSON.") from exc
        if not isinstance(body, dict) or body.get("success") is not True:
            # Some failures arrive as HTTP 200 with `success: false`: always check the flag.
            raise parse_failure(response.status_code, body, None).to_error(model=model)
        return body.get("result")


def _failure(response: requests.Response) -> UpstreamFailure:
    retry_after = _retry_after(response.headers.get("Retry-After"))
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    finally:
        response.close()
    return parse_failure(response.status_code, body, retry_after)


def _retry_after(raw: str | None) -> float | None:
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


_AFFINITY_SAFE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def affinity_key(prompt_cache_key: str) -> str:
    """`prompt_cache_key` as an `x-session-affinity` header value.

    Any string is a valid cache key for the client, but a header value must be printable ASCII
    without line breaks: other keys are sent as their SHA-256, which keeps one key → one replica.
    """
    if _AFFINITY_SAFE.fullmatch(prompt_cache_key):
        return prompt_cache_key
    return hashlib.sha256(prompt_cache_key.encode("utf-8", "surrogatepass")).hexdigest()


def _is_connect_failure(exc: requests.ConnectionError) -> bool:
    # Only failures before the request was sent are safe to repeat for a generation request.
    text = repr(exc)
    return "NewConnectionError" in text or "Failed to establish" in text or "Connection refused" in text


def _constant(token: str) -> Callable[[], str]:
    return lambda: token


def _new_session(base_url: str) -> requests.Session:
    session = requests.Session()
    # Proxies and netrc are read from the environment once here, not on every request: requests'
    # per-call lookup costs a few hundred microseconds of each call's overhead.
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    session.trust_env = False
    adapter = CancellableAdapter(pool_connections=4, pool_maxsize=64, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
