"""Chat Completions: `create` answers whole, `stream` answers as `chat.completion.chunk`s.

Both prepare the Workers AI input the same way (`_prepare`) and fan `n` choices out as separate
upstream requests (Workers AI has no `n`). Stream chunks are plain dicts: they are built once per
token, and a dict costs a fraction of a pydantic model there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from openai_cf import ids
from openai_cf.errors import InvalidRequestError
from openai_cf.schemas import chat as c
from openai_cf.schemas.common import CompletionTokensDetails, CompletionUsage, PromptTokensDetails
from openai_cf.services import generation as g
from openai_cf.services.chat_payload import SAMPLING_KEYS, PayloadBuilder, add_sampling
from openai_cf.services.image_fetch import ImageFetcher
from openai_cf.services.models import ModelRegistry, ResolvedModel
from openai_cf.services.stop import normalize_stop
from openai_cf.settings import Settings
from openai_cf.workers_ai.catalog import TEXT_GENERATION, ChatProfile
from openai_cf.workers_ai.client import WorkersAIClient
from openai_cf.workers_ai.text import Finish, ReasoningDelta, TextDelta, ToolCallDelta, Usage, UsageReport


@dataclass(frozen=True)
class Prepared:
    model: ResolvedModel
    profile: ChatProfile
    requests: list[g.UpstreamRequest]


def completion_usage(usage: Usage | None) -> CompletionUsage | None:
    if usage is None:
        return None
    return CompletionUsage(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.prompt_tokens + usage.completion_tokens,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=usage.cached_tokens),
        completion_tokens_details=CompletionTokensDetails(),
    )


def _refuse_unsupported(params: c.ChatCompletionCreateParams) -> None:
    refusals = {
        "logprobs": params.logprobs,
        "top_logprobs": params.top_logprobs,
        "logit_bias": params.logit_bias,
        "audio": params.audio,
        "prediction": params.prediction,
        "web_search_options": params.web_search_options,
        "moderation": params.moderation,
        "functions": params.functions,
        "function_call": params.function_call,
    }
    for param, value in refusals.items():
        if value:
            raise InvalidRequestError(
                f"`{param}` is not supported by openai-cf: Workers AI models cannot honour it.",
                param=param,
                code="unsupported_parameter",
            )
    if params.modalities and any(m != "text" for m in params.modalities):
        raise InvalidRequestError(
            "Only the `text` modality is supported.", param="modalities", code="unsupported_value"
        )


class ChatService:
    def __init__(
        self, client: WorkersAIClient, models: ModelRegistry, images: ImageFetcher, settings: Settings
    ) -> None:
        self.client = client
        self.models = models
        self.images = images
        self.settings = settings

    # -- non-streaming -----------------------------------------------------------------------
    def create(self, params: c.ChatCompletionCreateParams) -> c.ChatCompletion:
        prepared = self._prepare(params, stream=False)
        outcomes = g.fan_out(len(prepared.requests), lambda i: g.complete(self.client, prepared.requests[i]))
        choices = [
            c.Choice(index=i, message=_message(o), finish_reason=o.finish_reason) for i, o in enumerate(outcomes)
        ]
        usage = g.sum_usage([o.usage for o in outcomes])
        g.log_generation("chat.completions", prepared.model.name, usage, n=len(outcomes), stream=False)
        return c.ChatCompletion(
            id=ids.new_id("chatcmpl-"),
            created=int(time.time()),
            model=prepared.model.name,
            choices=choices,
            usage=completion_usage(usage),
        )

    # -- streaming ---------------------------------------------------------------------------
    def stream(self, params: c.ChatCompletionCreateParams) -> Iterator[dict[str, Any]]:
        prepared = self._prepare(params, stream=True)
        include_usage = bool(params.stream_options and params.stream_options.include_usage)
        # The first upstream answer is opened here, before any byte goes to the client.
        first = g.open_stream(self.client, prepared.requests[0])
        return _ChunkWriter(self, prepared, include_usage).chunks(first)

    # -- preparation -------------------------------------------------------------------------
    def _prepare(self, params: c.ChatCompletionCreateParams, *, stream: bool) -> Prepared:
        _refuse_unsupported(params)
        model = self.models.resolve(params.model, task=TEXT_GENERATION)
        profile = self.models.chat_profile(model)
        builder = PayloadBuilder(profile, self.images)
        payload: dict[str, Any] = {"messages": builder.messages(params.messages)}
        json_mode = self._add_format_and_tools(params, profile, builder, payload)
        max_tokens = params.max_completion_tokens or params.max_tokens or self.settings.default_max_tokens
        payload["max_tokens" if "max_tokens" in profile.message_keys else "max_completion_tokens"] = max_tokens
        self._add_sampling(params, profile, payload)
        stops = normalize_stop(params.stop)
        if stops and "stop" in profile.message_keys:
            payload["stop"] = list(stops)
        n = params.n or 1
        if n > 1:
            g.check_fan_out(len(json.dumps(payload)), n)
        requests = []
        for i in range(n):
            body = dict(payload)
            seed = (
                g.choice_seed(params.seed, i, profile.ranges.get("seed", (None, None)))
                if "seed" in profile.message_keys
                else None
            )
            if seed is not None:
                body["seed"] = seed
            synthesise = stream and json_mode and profile.dialect == "native"
            requests.append(
                g.UpstreamRequest(
                    model.name, body, max_tokens, stops, stream_as_json=synthesise, session=params.prompt_cache_key
                )
            )
        return Prepared(model, profile, requests)

    @staticmethod
    def _add_format_and_tools(
        params: c.ChatCompletionCreateParams,
        profile: ChatProfile,
        builder: PayloadBuilder,
        payload: dict[str, Any],
    ) -> bool:
        json_mode = False
        if params.response_format is not None:
            response_format = builder.response_format(params.response_format)
            if response_format is not None:
                payload["response_format"] = response_format
                json_mode = True
        if params.tools and params.tool_choice != "none":
            if not profile.tools:
                raise InvalidRequestError(
                    f"The model `{params.model}` does not support tools (function calling).",
                    param="tools",
                    code="tools_not_supported",
                )
            payload["tools"] = builder.tools(params.tools, params.tool_choice)
            if params.tool_choice is not None and "tool_choice" in profile.message_keys:
                choice = params.tool_choice
                payload["tool_choice"] = choice if isinstance(choice, str) else choice.model_dump()
            if params.parallel_tool_calls is not None and "parallel_tool_calls" in profile.message_keys:
                payload["parallel_tool_calls"] = params.parallel_tool_calls
        return json_mode

    @staticmethod
    def _add_sampling(params: c.ChatCompletionCreateParams, profile: ChatProfile, payload: dict[str, Any]) -> None:
        add_sampling(payload, params.model_dump(include=set(SAMPLING_KEYS)), profile.message_keys, profile)
        if params.reasoning_effort in ("low", "medium", "high") and "reasoning_effort" in profile.message_keys:
            payload["reasoning_effort"] = params.reasoning_effort


def _message(outcome: g.Outcome) -> c.ChatCompletionMessage:
    calls = [
        c.ChatCompletionMessageFunctionToolCall(
            id=ids.new_id("call_"), function=c.Function(name=t.name, arguments=t.arguments)
        )
        for t in outcome.tool_calls
    ]
    return c.ChatCompletionMessage(
        content=None if calls and not outcome.text else outcome.text,
        tool_calls=calls or None,
        reasoning_content=outcome.reasoning or None,
    )


class _ChunkWriter:
    def __init__(self, service: ChatService, prepared: Prepared, include_usage: bool) -> None:
        self.service = service
        self.prepared = prepared
        self.include_usage = include_usage
        self.head = {"id": ids.new_id("chatcmpl-"), "object": "chat.completion.chunk", "created": int(time.time()),
                     "model": prepared.model.name}  # fmt: skip
        self.usages: list[Usage | None] = []

    def chunk(self, index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        out = {**self.head, "choices": [choice]}
        if self.include_usage:
            out["usage"] = None
        return out

    def chunks(self, first: Iterator[Any]) -> Iterator[dict[str, Any]]:
        for index, request in enumerate(self.prepared.requests):
            events = first if index == 0 else g.open_stream(self.service.client, request)
            yield from self._choice(index, events)
        total = g.sum_usage(self.usages)
        g.log_generation("chat.completions", self.prepared.model.name, total, n=len(self.usages), stream=True)
        if self.include_usage:
            usage = completion_usage(total)
            yield {**self.head, "choices": [], "usage": usage.model_dump() if usage else None}

    def _choice(self, index: int, events: Iterator[Any]) -> Iterator[dict[str, Any]]:
        yield self.chunk(index, {"role": "assistant", "content": ""})
        calls: dict[int, int] = {}
        usage = None
        for event in events:
            if isinstance(event, TextDelta):
                yield self.chunk(index, {"content": event.text})
            elif isinstance(event, ReasoningDelta):
                yield self.chunk(index, {"reasoning_content": event.text})
            elif isinstance(event, ToolCallDelta):
                yield from self._tool_call(index, event, calls)
            elif isinstance(event, Finish):
                yield self.chunk(index, {}, event.reason)
            elif isinstance(event, UsageReport):
                usage = event.usage
        self.usages.append(usage)

    def _tool_call(self, index: int, event: ToolCallDelta, calls: dict[int, int]) -> Iterator[dict[str, Any]]:
        if event.index not in calls:
            # OpenAI's shape: the first delta of a call names it with empty arguments.
            calls[event.index] = len(calls)
            first = {"index": calls[event.index], "id": ids.new_id("call_"), "type": "function",
                     "function": {"name": event.name or "", "arguments": ""}}  # fmt: skip
            yield self.chunk(index, {"tool_calls": [first]})
        if event.arguments:
            fragment = {"index": calls[event.index], "function": {"arguments": event.arguments}}
            yield self.chunk(index, {"tool_calls": [fragment]})
