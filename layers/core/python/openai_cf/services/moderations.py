"""Moderations: each input classified by Llama Guard 3 (one upstream call each, a few at a time),
its verdict mapped onto OpenAI's categories (`moderation_verdicts`).

Inputs are a string, a list of strings (one result each, in order), or one list of content parts
(one result for all of them, as OpenAI does): text parts are classified together. Llama Guard on
Workers AI reads text only, so `image_url` parts are refused rather than silently skipped.
"""

from __future__ import annotations

from typing import Any

from openai_cf.errors import InvalidRequestError
from openai_cf.ids import new_id
from openai_cf.schemas.limits import MAX_MODERATION_TEXT
from openai_cf.schemas.moderations import ModerationCreateParams, ModerationCreateResponse
from openai_cf.services.generation import fan_out, log_generation
from openai_cf.services.models import ModelRegistry
from openai_cf.services.moderation_verdicts import read_verdict, to_moderation
from openai_cf.workers_ai.catalog import TEXT_GENERATION
from openai_cf.workers_ai.client import WorkersAIClient
from openai_cf.workers_ai.text import Usage

GUARD_FAMILY = "llama-guard"
# "unsafe\nS1,S2,…,S14" is about 30 tokens: room for every code, and a bound on a runaway answer.
VERDICT_MAX_TOKENS = 64


def _bad(message: str, param: str, code: str = "invalid_value") -> InvalidRequestError:
    return InvalidRequestError(message, param=param, code=code)


def _text(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise _bad(f"'{param}' must be a string.", param, "invalid_type")
    if not value.strip():
        raise _bad(f"'{param}' must not be empty: there is nothing to classify.", param)
    if len(value) > MAX_MODERATION_TEXT:
        raise _bad(
            f"'{param}' is {len(value)} characters long; at most {MAX_MODERATION_TEXT} can be classified.",
            param,
            "string_above_max_length",
        )
    return value


def _part_text(part: Any, index: int) -> str:
    param = f"input[{index}]"
    if not isinstance(part, dict):
        raise _bad(f"'{param}' must be a content part like the ones before it.", param, "invalid_type")
    kind = part.get("type")
    if kind == "image_url":
        raise _bad(
            "Image inputs cannot be moderated: Llama Guard 3 on Workers AI classifies text only. Send `text` parts.",
            f"{param}.image_url",
            "unsupported_value",
        )
    if kind != "text":
        raise _bad(f"'{param}.type' must be 'text' or 'image_url'.", f"{param}.type")
    if set(part) - {"type", "text"}:
        raise _bad(f"'{param}' has unknown keys.", param, "unknown_parameter")
    return _text(part.get("text"), f"{param}.text")


def moderation_inputs(value: str | list[Any]) -> list[str]:
    """The texts to classify, one per result; a 400 naming the first bad item."""
    if isinstance(value, str):
        return [_text(value, "input")]
    if not value:
        raise _bad("'input' must not be an empty list.", "input")
    if isinstance(value[0], dict):
        texts = [_part_text(part, i) for i, part in enumerate(value)]
        return [_text("\n".join(texts), "input")]
    return [_text(item, f"input[{i}]") for i, item in enumerate(value)]


class ModerationsService:
    def __init__(self, client: WorkersAIClient, models: ModelRegistry) -> None:
        self.client = client
        self.models = models

    def create(self, params: ModerationCreateParams) -> ModerationCreateResponse:
        model = self.models.resolve(params.model, task=TEXT_GENERATION)
        if GUARD_FAMILY not in model.name:
            raise _bad(
                f"The model `{params.model}` ({model.name}) is not a moderation model: use "
                "`omni-moderation-latest` or a Llama Guard model such as `@cf/meta/llama-guard-3-8b`.",
                "model",
                "model_not_supported",
            )
        texts = moderation_inputs(params.input)
        answers = fan_out(len(texts), lambda i: self._classify(model.name, texts[i]))
        usages = [Usage.parse(answer.get("usage")) if isinstance(answer, dict) else None for answer in answers]
        usage = Usage(
            prompt_tokens=sum(u.prompt_tokens for u in usages if u),
            completion_tokens=sum(u.completion_tokens for u in usages if u),
        )
        log_generation("moderations", model.name, usage, n=len(texts), stream=False)
        return ModerationCreateResponse(
            id=new_id("modr-"),
            model=model.name,
            results=[to_moderation(read_verdict(answer)) for answer in answers],
        )

    def _classify(self, model: str, text: str) -> Any:
        # Temperature 0: the same text gets the same verdict.
        payload = {"messages": [{"role": "user", "content": text}], "max_tokens": VERDICT_MAX_TOKENS, "temperature": 0}
        return self.client.run(model, payload)
