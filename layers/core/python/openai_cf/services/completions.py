"""Legacy Completions: each prompt times `n` becomes one upstream generation.

Models with a `prompt` input get the text as is; chat-only models get it as one user message.
Token-array prompts, `suffix`, `logprobs` and `best_of` > `n` cannot be honoured by Workers AI
and are refused with a 400 naming the parameter.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from openai_cf import ids
from openai_cf.errors import InvalidRequestError
from openai_cf.schemas.completions import Completion, CompletionChoice, CompletionCreateParams
from openai_cf.services import generation as g
from openai_cf.services.chat import completion_usage
from openai_cf.services.chat_payload import SAMPLING_KEYS, add_sampling
from openai_cf.services.models import ModelRegistry
from openai_cf.services.stop import normalize_stop
from openai_cf.workers_ai.catalog import TEXT_GENERATION, ChatProfile
from openai_cf.workers_ai.client import WorkersAIClient
from openai_cf.workers_ai.text import Finish, TextDelta, Usage, UsageReport


def _prompts(prompt: Any) -> list[str]:
    items = [prompt] if isinstance(prompt, str) else (prompt or [])
    if not items:
        raise InvalidRequestError("'prompt' must not be empty.", param="prompt", code="invalid_value")
    if not all(isinstance(p, str) for p in items):
        raise InvalidRequestError(
            "Token-array prompts are not supported: Workers AI takes text. Send a string or a list of strings.",
            param="prompt",
            code="unsupported_value",
        )
    return list(items)


def _refuse_unsupported(params: CompletionCreateParams) -> None:
    if params.suffix:
        raise InvalidRequestError(
            "`suffix` is not supported by Workers AI models.", param="suffix", code="unsupported_parameter"
        )
    if params.logprobs:
        raise InvalidRequestError(
            "`logprobs` is not supported by Workers AI models.",
            param="logprobs",
            code="unsupported_parameter",
        )
    if params.logit_bias:
        raise InvalidRequestError(
            "`logit_bias` is not supported by Workers AI models.",
            param="logit_bias",
            code="unsupported_parameter",
        )
    if params.best_of is not None and params.best_of > (params.n or 1):
        raise InvalidRequestError(
            "`best_of` greater than `n` is not supported (Workers AI gives no log-probabilities to rank by).",
            param="best_of",
            code="unsupported_value",
        )


class CompletionsService:
    def __init__(self, client: WorkersAIClient, models: ModelRegistry) -> None:
        self.client = client
        self.models = models

    def _prepare(
        self, params: CompletionCreateParams, *, stream: bool
    ) -> tuple[str, list[str], list[g.UpstreamRequest]]:
        _refuse_unsupported(params)
        prompts = _prompts(params.prompt)
        model = self.models.resolve(params.model, task=TEXT_GENERATION)
        profile = self.models.chat_profile(model)
        max_tokens = params.max_tokens or 16
        stops = normalize_stop(params.stop)
        g.check_fan_out(sum(len(prompt.encode()) for prompt in prompts), params.n or 1)
        requests = []
        for prompt in prompts:
            for i in range(params.n or 1):
                payload = self._payload(params, profile, prompt, max_tokens, i)
                requests.append(g.UpstreamRequest(model.name, payload, max_tokens, stops))
        return model.name, prompts, requests

    @staticmethod
    def _payload(
        params: CompletionCreateParams, profile: ChatProfile, prompt: str, max_tokens: int, index: int
    ) -> dict[str, Any]:
        use_prompt = bool(profile.prompt_keys)
        keys = profile.prompt_keys if use_prompt else profile.message_keys
        payload: dict[str, Any] = (
            {"prompt": prompt} if use_prompt else {"messages": [{"role": "user", "content": prompt}]}
        )
        payload["max_tokens" if "max_tokens" in keys else "max_completion_tokens"] = max_tokens
        add_sampling(payload, params.model_dump(include=set(SAMPLING_KEYS)), keys, profile)
        seed = g.choice_seed(params.seed, index, profile.ranges.get("seed", (None, None)))
        if seed is not None and "seed" in keys:
            payload["seed"] = seed
        return payload

    def create(self, params: CompletionCreateParams) -> Completion:
        model, prompts, requests = self._prepare(params, stream=False)
        outcomes = g.fan_out(len(requests), lambda i: g.complete(self.client, requests[i]))
        n = params.n or 1
        choices = [
            CompletionChoice(
                index=i,
                text=(prompts[i // n] if params.echo else "") + o.text,
                finish_reason="length" if o.finish_reason == "length" else "stop",
            )
            for i, o in enumerate(outcomes)
        ]
        usage = _usage([o.usage for o in outcomes], n)
        g.log_generation("completions", model, usage, n=len(outcomes), stream=False)
        return Completion(
            id=ids.new_id("cmpl-"),
            created=int(time.time()),
            model=model,
            choices=choices,
            usage=completion_usage(usage),
        )

    def stream(self, params: CompletionCreateParams) -> Iterator[dict[str, Any]]:
        model, prompts, requests = self._prepare(params, stream=True)
        include_usage = bool(params.stream_options and params.stream_options.include_usage)
        first = g.open_stream(self.client, requests[0])
        return self._chunks(model, prompts, requests, first, params, include_usage)

    def _chunks(
        self, model: str, prompts: list[str], requests: list[g.UpstreamRequest], first: Iterator[Any],
        params: CompletionCreateParams, include_usage: bool,
    ) -> Iterator[dict[str, Any]]:  # fmt: skip
        head = {
            "id": ids.new_id("cmpl-"),
            "object": "text_completion",
            "created": int(time.time()),
            "model": model,
        }
        n = params.n or 1
        usages: list[Usage | None] = []

        def chunk(index: int, text: str, finish: str | None = None) -> dict[str, Any]:
            return {
                **head,
                "choices": [{"text": text, "index": index, "logprobs": None, "finish_reason": finish}],
            }

        for index, request in enumerate(requests):
            events = first if index == 0 else g.open_stream(self.client, request)
            if params.echo:
                yield chunk(index, prompts[index // n])
            usage = None
            for event in events:
                if isinstance(event, TextDelta):
                    yield chunk(index, event.text)
                elif isinstance(event, Finish):
                    yield chunk(index, "", "length" if event.reason == "length" else "stop")
                elif isinstance(event, UsageReport):
                    usage = event.usage
            usages.append(usage)
        usage = _usage(usages, n)
        g.log_generation("completions", model, usage, n=len(usages), stream=True)
        if include_usage:
            total = completion_usage(usage)
            yield {**head, "choices": [], "usage": total.model_dump() if total else None}


def _usage(usages: list[Usage | None], n: int) -> Usage | None:
    """Each distinct prompt counts once; completions count every choice."""
    groups = [g.sum_usage(usages[i : i + n]) for i in range(0, len(usages), n)]
    known = [u for u in groups if u is not None]
    if not known:
        return None
    return Usage(
        prompt_tokens=sum(u.prompt_tokens for u in known),
        completion_tokens=sum(u.completion_tokens for u in known),
        cached_tokens=sum(u.cached_tokens for u in known),
    )
