"""One upstream generation, non-streamed or streamed, with the bridge's rules applied.

Shared by chat and legacy completions: stop sequences enforced here (in streams too, across chunk
boundaries), `finish_reason` decided honestly (`length` when the token budget ran out, never a
silent `stop`), and usage taken from Workers AI, keeping the last report a stream sent.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from openai_cf import cancel
from openai_cf.errors import BadGatewayError, InvalidRequestError
from openai_cf.schemas.limits import MAX_FAN_OUT_BYTES
from openai_cf.services.stop import StopScanner, truncate_at_stop
from openai_cf.tokens import estimate_tokens
from openai_cf.workers_ai.client import UpstreamStream, WorkersAIClient
from openai_cf.workers_ai.text import (
    Event,
    Finish,
    Generation,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
    UsageReport,
    generation_events,
    parse_result,
    parse_stream,
)

T = TypeVar("T")
logger = logging.getLogger(__name__)
SEED_MAX = 9_999_999_999


@dataclass(frozen=True)
class UpstreamRequest:
    model: str
    payload: dict[str, Any]
    max_tokens: int
    stops: tuple[str, ...] = ()
    # JSON mode can't stream on classic models: such streams are synthesised from one answer.
    stream_as_json: bool = False
    # OpenAI's `prompt_cache_key`: requests sharing it go to one replica, which caches their prefix.
    session: str | None = None


@dataclass
class Outcome:
    text: str
    reasoning: str
    tool_calls: list[ToolCall]
    finish_reason: str
    usage: Usage | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def decide_finish(upstream: str | None, *, tools: bool, stopped: bool, usage: Usage | None, max_tokens: int) -> str:
    if tools:
        return "tool_calls"
    if stopped:
        return "stop"
    if upstream in ("length", "model_length"):
        return "length"
    if upstream == "error":
        raise BadGatewayError("Workers AI ended the answer with an error.")
    if upstream is None and usage is not None and usage.completion_tokens >= max_tokens:
        # Native answers carry no finish reason: a spent budget means the text was cut.
        return "length"
    return "stop"


def complete(client: WorkersAIClient, request: UpstreamRequest) -> Outcome:
    generation = parse_result(client.run(request.model, request.payload, session=request.session))
    return _outcome(generation, request)


def _outcome(generation: Generation, request: UpstreamRequest) -> Outcome:
    text, stopped = truncate_at_stop(generation.text, request.stops)
    finish = decide_finish(
        generation.finish_reason,
        tools=bool(generation.tool_calls),
        stopped=stopped,
        usage=generation.usage,
        max_tokens=request.max_tokens,
    )
    return Outcome(text, generation.reasoning, generation.tool_calls, finish, generation.usage)


def open_stream(client: WorkersAIClient, request: UpstreamRequest) -> Iterator[Event]:
    """Open the upstream answer now (so failures are still HTTP errors) and return its events."""
    if request.stream_as_json:
        answer = client.run(request.model, request.payload, session=request.session)
        events: Iterator[Event] = generation_events(parse_result(answer))
    else:
        opened = client.stream(request.model, request.payload, session=request.session)
        events = parse_stream(opened) if isinstance(opened, UpstreamStream) else generation_events(parse_result(opened))
    return bridge_events(events, request)


class _Bridge:
    """State of one bridged stream: stop scanning, the upstream finish reason, the last usage."""

    def __init__(self, request: UpstreamRequest) -> None:
        self.request = request
        self.scanner = StopScanner(request.stops)
        self.upstream_finish: str | None = None
        self.usage: Usage | None = None
        self.tools = False
        # Workers AI sends one event per generated token: the count of a stream we cut short.
        self.generated = 0

    def take(self, event: Event) -> Iterator[Event]:
        if not isinstance(event, Finish | UsageReport):
            self.generated += 1
        if isinstance(event, TextDelta):
            text = self.scanner.feed(event.text)
            if text:
                yield TextDelta(text)
        elif isinstance(event, Finish):
            self.upstream_finish = event.reason
        elif isinstance(event, UsageReport):
            self.usage = event.usage
        else:
            self.tools = self.tools or isinstance(event, ToolCallDelta)
            yield event

    def finish(self) -> Iterator[Event]:
        rest = self.scanner.flush()
        if rest:
            yield TextDelta(rest)
        reason = decide_finish(
            self.upstream_finish,
            tools=self.tools,
            stopped=self.scanner.stopped,
            usage=self.usage,
            max_tokens=self.request.max_tokens,
        )
        yield Finish(reason)

    def cut_short_usage(self) -> Usage:
        """Usage of a generation we stopped reading: what it cost up to the cut.

        The completion is the tokens received (or Workers AI's running count, if larger); the
        prompt is Workers AI's count when a chunk carried one, else our estimate.
        """
        reported = self.usage
        if reported is not None and reported.prompt_tokens:
            return Usage(
                prompt_tokens=reported.prompt_tokens,
                completion_tokens=max(reported.completion_tokens, self.generated),
                cached_tokens=reported.cached_tokens,
            )
        return Usage(prompt_tokens=estimate_prompt_tokens(self.request.payload), completion_tokens=self.generated)


def bridge_events(events: Iterator[Event], request: UpstreamRequest) -> Iterator[Event]:
    """Apply stop sequences; end with exactly one `Finish`, then the usage if there is any.

    Once a stop sequence has ended the answer, the upstream stream is closed at once: the rest of
    the generation would be read (and billed as Lambda time) for nobody.
    """
    bridge = _Bridge(request)
    close = getattr(events, "close", None)
    try:
        for event in events:
            yield from bridge.take(event)
            if bridge.scanner.stopped:
                break
        if bridge.scanner.stopped:
            if close is not None:
                close()
            bridge.usage = bridge.cut_short_usage()
        yield from bridge.finish()
        if bridge.usage is not None:
            yield UsageReport(bridge.usage)
    finally:
        if close is not None:
            close()


def estimate_prompt_tokens(payload: dict[str, Any]) -> int:
    """Our estimate of a request's prompt (text, and tool definitions as JSON; images not counted)."""
    texts: list[str] = [payload.get("prompt") or ""]
    for message in payload.get("messages") or ():
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(part.get("text") or "" for part in content if isinstance(part, dict))
    if payload.get("tools"):
        texts.append(json.dumps(payload["tools"]))
    return sum(estimate_tokens(text) for text in texts)


def fan_out(count: int, work: Callable[[int], T]) -> list[T]:
    """Run `work(i)` for i in range(count), concurrently when there is more than one; the pool's
    threads share the caller's cancel scope, so an abandoned request abandons every choice."""
    if count == 1:
        return [work(0)]
    scope = cancel.current()
    with ThreadPoolExecutor(max_workers=min(count, 8)) as pool:
        return list(pool.map(lambda i: cancel.run_in(scope, work, i), range(count)))


def check_fan_out(prompt_bytes: int, n: int) -> None:
    """Refuse `n` copies of a prompt whose upstream requests would add up to too much."""
    if n > 1 and prompt_bytes * n > MAX_FAN_OUT_BYTES:
        raise InvalidRequestError(
            f"`n` = {n} would send this prompt ({prompt_bytes / 2**20:.1f} MB) upstream {n} times, more than "
            f"the {MAX_FAN_OUT_BYTES // 2**20} MB one request may send in all. Lower `n` or shorten the prompt.",
            param="n",
            code="invalid_value",
        )


def choice_seed(seed: int | None, index: int, bounds: tuple[float | None, float | None]) -> int | None:
    """Seed for choice `index`: the caller's seed for the first, distinct seeds for the others."""
    if seed is None and index == 0:
        return None
    base = seed if seed is not None else secrets.randbelow(SEED_MAX)
    low = int(bounds[0]) if bounds[0] is not None else 0
    high = int(bounds[1]) if bounds[1] is not None else SEED_MAX
    return low + (base + index - low) % (high - low + 1)


def sum_usage(usages: list[Usage | None]) -> Usage | None:
    known = [u for u in usages if u is not None]
    if not known:
        return None
    # The prompt is the same for every choice: count it once, as OpenAI does.
    return Usage(
        prompt_tokens=known[0].prompt_tokens,
        completion_tokens=sum(u.completion_tokens for u in known),
        cached_tokens=known[0].cached_tokens,
    )


def log_generation(endpoint: str, model: str, usage: Usage | None, *, n: int, stream: bool) -> None:
    """Model and token counts only (also as metrics): never prompt or answer text."""
    prompt = usage.prompt_tokens if usage else None
    completion = usage.completion_tokens if usage else None
    logger.info(
        "generation",
        extra={
            "endpoint": endpoint,
            "model": model,
            "n": n,
            "stream": stream,
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "metrics": {"Requests": 1, "PromptTokens": prompt, "CompletionTokens": completion},
        },
    )
