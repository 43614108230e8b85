"""OpenAI chat requests → the Workers AI input one model accepts.

Normalises what strict models refuse (workers-ai-contract section 10): content arrays flattened
for text-only models, `content: null` → "", tool-call ids mapped to the 9-character form some
models require, tool schemas completed, OpenAI ranges clamped to the model's, `response_format`
unwrapped for classic models, and only keys the model's schema lists are sent.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel

from openai_cf.errors import InvalidRequestError
from openai_cf.schemas import chat as c
from openai_cf.services.image_fetch import ImageFetcher, ImageRef
from openai_cf.workers_ai.catalog import ChatProfile

_ALNUM = string.ascii_letters + string.digits


def short_tool_call_id(openai_id: str) -> str:
    """The same OpenAI id always maps to the same `[a-zA-Z0-9]{9}` id, so no state is needed."""
    digest = int.from_bytes(hashlib.sha256(openai_id.encode()).digest()[:8], "big")
    chars = []
    for _ in range(9):
        digest, rem = divmod(digest, len(_ALNUM))
        chars.append(_ALNUM[rem])
    return "".join(chars)


def _text_of(content: str | list[Any] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(part.text for part in content if isinstance(part, c.ChatCompletionContentPartText))


class PayloadBuilder:
    def __init__(self, profile: ChatProfile, images: ImageFetcher) -> None:
        self.profile = profile
        self.images = images
        self._data_urls: dict[str, str] = {}

    def messages(self, messages: Sequence[BaseModel]) -> list[dict[str, Any]]:
        # All images first, together: the fetcher caps their number and bytes per request and
        # downloads them concurrently under one deadline.
        refs = list(self._image_parts(messages))
        if refs:
            self._data_urls = dict(zip((r.part for r in refs), self.images.fetch_all(refs), strict=True))
        return [self._message(i, m) for i, m in enumerate(messages)]

    def _image_parts(self, messages: Sequence[BaseModel]) -> Iterator[ImageRef]:
        for i, message in enumerate(messages):
            if isinstance(message, c.ChatCompletionUserMessageParam) and isinstance(message.content, list):
                for j, part in enumerate(message.content):
                    if isinstance(part, c.ChatCompletionContentPartImage):
                        self._require_vision(f"messages[{i}].content[{j}]")
                        yield ImageRef(part.image_url.url, f"messages[{i}].content[{j}]")

    def _require_vision(self, param: str) -> None:
        if not (self.profile.vision and self.profile.content_arrays):
            raise InvalidRequestError(
                f"The model `{self.profile.name}` does not accept image input. Use a vision model such as gpt-4o.",
                param=param,
                code="image_not_supported",
            )

    def _message(self, index: int, message: BaseModel) -> dict[str, Any]:
        native = self.profile.dialect == "native"
        if isinstance(message, c.ChatCompletionSystemMessageParam | c.ChatCompletionDeveloperMessageParam):
            role = "system" if native or isinstance(message, c.ChatCompletionSystemMessageParam) else "developer"
            return {"role": role, "content": _text_of(message.content)}
        if isinstance(message, c.ChatCompletionUserMessageParam):
            return {"role": "user", "content": self._user_content(index, message.content)}
        if isinstance(message, c.ChatCompletionAssistantMessageParam):
            return self._assistant(message)
        if isinstance(message, c.ChatCompletionToolMessageParam):
            return {
                "role": "tool",
                "content": _text_of(message.content),
                "tool_call_id": self._call_id(message.tool_call_id),
            }
        assert isinstance(message, c.ChatCompletionFunctionMessageParam)
        return {"role": "tool", "name": message.name, "content": message.content or ""}

    def _user_content(self, index: int, content: str | list[Any]) -> str | list[dict[str, Any]]:
        if isinstance(content, str):
            return content
        parts: list[dict[str, Any]] = []
        for j, part in enumerate(content):
            param = f"messages[{index}].content[{j}]"
            if isinstance(part, c.ChatCompletionContentPartText):
                parts.append({"type": "text", "text": part.text})
            elif isinstance(part, c.ChatCompletionContentPartImage):
                parts.append({"type": "image_url", "image_url": {"url": self._data_urls[param]}})
            else:
                raise InvalidRequestError(
                    f"Content parts of type `{part.type}` are not supported by Workers AI chat models.",
                    param=f"{param}.type",
                    code="unsupported_content_type",
                )
        if all(p["type"] == "text" for p in parts):
            # Text-only models take a string; joining keeps every model happy.
            return "\n".join(p["text"] for p in parts)
        return parts

    def _assistant(self, message: c.ChatCompletionAssistantMessageParam) -> dict[str, Any]:
        # Strict models refuse `content: null` on tool-call turns: send "".
        out: dict[str, Any] = {"role": "assistant", "content": _text_of(message.content)}
        if message.tool_calls:
            out["tool_calls"] = [
                {"id": self._call_id(call.id), "type": "function",
                 "function": {"name": call.function.name, "arguments": call.function.arguments}}
                for call in message.tool_calls
            ]  # fmt: skip
        if message.reasoning_content and self.profile.dialect == "openai":
            out["reasoning"] = message.reasoning_content
        return out

    def _call_id(self, call_id: str) -> str:
        pattern = self.profile.tool_call_id_pattern
        if pattern and not re.fullmatch(pattern, call_id):
            return short_tool_call_id(call_id)
        return call_id

    def tools(self, tools: list[c.ChatCompletionToolParam], choice: c.ToolChoice | None) -> list[dict[str, Any]]:
        if isinstance(choice, c.ChatCompletionNamedToolChoiceParam):
            tools = [t for t in tools if t.function.name == choice.function.name]
            if not tools:
                raise InvalidRequestError(
                    f"tool_choice names `{choice.function.name}`, which is not in `tools`.",
                    param="tool_choice",
                )
        return [self._tool(t) for t in tools]

    def _tool(self, tool: c.ChatCompletionToolParam) -> dict[str, Any]:
        fn = tool.function
        parameters = fn.parameters or {"type": "object", "properties": {}}
        function: dict[str, Any] = {"name": fn.name, "description": fn.description or fn.name}
        if self.profile.dialect == "native":
            # Classic schemas require `type` and `description` on every parameter property.
            parameters = _complete_parameters(parameters)
        elif fn.strict is not None:
            function["strict"] = fn.strict
        function["parameters"] = parameters
        return {"type": "function", "function": function}

    def response_format(self, fmt: c.ResponseFormat) -> dict[str, Any] | None:
        if isinstance(fmt, c.ResponseFormatText):
            return None
        if "response_format" not in self.profile.message_keys:
            raise InvalidRequestError(
                f"The model `{self.profile.name}` does not support response_format (JSON mode).",
                param="response_format",
                code="response_format_not_supported",
            )
        if isinstance(fmt, c.ResponseFormatJSONObject):
            return {"type": "json_object"}
        schema = fmt.json_schema.schema_ or {"type": "object"}
        if self.profile.json_schema_envelope:
            return {
                "type": "json_schema",
                "json_schema": fmt.json_schema.model_dump(by_alias=True, exclude_none=True),
            }
        return {"type": "json_schema", "json_schema": schema}


def _complete_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    # Request parsing has checked the schema's shape (`schemas.json_schema`); this still reads it
    # without trusting it, so nothing a client sends can make it raise.
    properties = parameters.get("properties")
    completed = {}
    for name, spec in (properties if isinstance(properties, dict) else {}).items():
        spec = dict(spec) if isinstance(spec, dict) else {}
        spec.setdefault("type", _first_type(spec))
        spec.setdefault("description", name)
        completed[name] = spec
    return {**parameters, "type": parameters.get("type", "object"), "properties": completed}


def _first_type(spec: dict[str, Any]) -> str:
    options = spec.get("anyOf") or spec.get("oneOf")
    for option in options if isinstance(options, list) else ():
        found = _type_name(option.get("type")) if isinstance(option, dict) else None
        if found is not None:
            return found
    return "object" if "properties" in spec else "string"


def _type_name(kind: Any) -> str | None:
    """The first non-null type a schema's `type` names (a string or a list of them)."""
    for name in kind if isinstance(kind, list) else (kind,):
        if isinstance(name, str) and name != "null":
            return name
    return None


def clamp(value: float, bounds: tuple[float | None, float | None]) -> float:
    low, high = bounds
    if low is not None and value < low:
        value = low
    if high is not None and value > high:
        value = high
    return value


SAMPLING_KEYS = ("temperature", "top_p", "frequency_penalty", "presence_penalty")


def add_sampling(
    payload: dict[str, Any], values: dict[str, float | None], keys: frozenset[str], profile: ChatProfile
) -> None:
    """Copy the sampling knobs the model accepts, clamped to its ranges.

    OpenAI's ranges differ from each model's (`top_p` 0, negative penalties on older models):
    clamping gives the nearest behaviour the model has instead of an upstream 400.
    """
    for key in SAMPLING_KEYS:
        value = values.get(key)
        if value is not None and key in keys:
            payload[key] = clamp(value, profile.ranges.get(key, (None, None)))
