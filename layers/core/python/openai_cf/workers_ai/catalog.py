"""What we know about Workers AI models, from the packaged model schemas.

`ModelInfo` is one catalogue entry; `ChatProfile` is what the chat bridge needs to know to send a
model only what its schema accepts (keys, numeric ranges, content shapes, tool-call id rules).
Models missing from the packaged data are described from the upstream schema endpoint by
`services.models`, as a `ModelInfo` of the same shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any, Literal

Dialect = Literal["native", "openai"]

TEXT_GENERATION = "Text Generation"
TEXT_EMBEDDINGS = "Text Embeddings"
TEXT_TO_IMAGE = "Text-to-Image"


@cache
def _data(name: str) -> Any:
    return json.loads(resources.files("openai_cf.data").joinpath(name).read_text("utf-8"))


def chat_completions_input_schema() -> dict[str, Any]:
    """Stand-in input schema for the chat-completions family, whose published schemas are omitted."""
    schema: dict[str, Any] = _data("chat_completions_input.json")
    return schema


@dataclass(frozen=True)
class ModelInfo:
    name: str
    task: str
    description: str = ""
    created: int = 0
    flags: dict[str, Any] = field(default_factory=dict)
    deprecated: bool = False
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> ModelInfo:
        task = entry.get("task") or {}
        lifecycle = entry.get("lifecycle") or {}
        input_schema = entry.get("input_schema")
        if input_schema is None and entry.get("schema_omitted"):
            input_schema = chat_completions_input_schema()
        return cls(
            name=entry["name"],
            task=task.get("name", "") if isinstance(task, dict) else str(task),
            description=entry.get("description") or "",
            created=to_unix(entry.get("created_at")),
            flags=dict(entry.get("flags") or {}),
            deprecated=bool(lifecycle.get("deprecated_on")) or bool((entry.get("flags") or {}).get("deprecated")),
            input_schema=input_schema,
            output_schema=entry.get("output_schema"),
        )


def to_unix(value: Any) -> int:
    if not value:
        return 0
    try:
        parsed = datetime.fromisoformat(str(value).replace(" ", "T").replace("Z", "+00:00"))
    except ValueError:
        return 0
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


@cache
def packaged_models() -> dict[str, ModelInfo]:
    return {m["name"]: ModelInfo.from_entry(m) for m in _data("workers_ai_models.json")["models"]}


def branch(schema: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    """The `oneOf`/`anyOf` branch of an input schema whose properties include `key`."""
    if not schema:
        return None
    if key in (schema.get("properties") or {}):
        return schema
    for combinator in ("oneOf", "anyOf"):
        for option in schema.get(combinator) or []:
            found = branch(option, key)
            if found is not None:
                return found
    return None


@dataclass(frozen=True)
class ChatProfile:
    """How to talk to one text-generation model."""

    name: str
    dialect: Dialect
    message_keys: frozenset[str]
    prompt_keys: frozenset[str]
    ranges: dict[str, tuple[float | None, float | None]]
    content_arrays: bool
    vision: bool
    tools: bool
    tool_call_id_pattern: str | None
    # Classic models take a bare JSON Schema in `response_format.json_schema`; the chat-completions
    # family takes OpenAI's `{name, schema, strict}` envelope (workers-ai-contract section 5).
    json_schema_envelope: bool
    context_window: int | None

    def accepts(self, key: str, *, messages: bool = True) -> bool:
        return key in (self.message_keys if messages else self.prompt_keys)


_RANGED = (
    "temperature",
    "top_p",
    "top_k",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "repetition_penalty",
)


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _content_allows_array(messages_branch: dict[str, Any]) -> bool:
    items = messages_branch["properties"]["messages"].get("items") or {}
    content = (items.get("properties") or {}).get("content") or {}
    return '"array"' in json.dumps(content)


def chat_profile(info: ModelInfo) -> ChatProfile | None:
    """Derive a `ChatProfile` from a model's input/output schemas; None if it is not a chat model."""
    if info.task != TEXT_GENERATION:
        return None
    messages = branch(info.input_schema, "messages")
    prompt = branch(info.input_schema, "prompt")
    if messages is None and prompt is None:
        return None
    props = dict((messages or prompt or {}).get("properties") or {})
    ranges = {key: (props[key].get("minimum"), props[key].get("maximum")) for key in _RANGED if key in props}
    openai_dialect = '"choices"' in json.dumps(info.output_schema) or info.output_schema is None
    message_items = ((props.get("messages") or {}).get("items") or {}).get("properties") or {}
    id_pattern = (message_items.get("tool_call_id") or {}).get("pattern")
    window = info.flags.get("context_window")
    return ChatProfile(
        name=info.name,
        dialect="openai" if openai_dialect else "native",
        message_keys=frozenset(props) if messages else frozenset(),
        prompt_keys=frozenset((prompt or {}).get("properties") or {}),
        ranges=ranges,
        content_arrays=messages is not None and _content_allows_array(messages),
        vision=bool(info.flags.get("vision")) or ("image_url" in json.dumps(message_items)),
        # A schema may list `tools` for a model without function calling (llama-3.1-8b-fast): trust the flag.
        tools="tools" in props and _flag(info.flags.get("function_calling")),
        tool_call_id_pattern=id_pattern,
        json_schema_envelope=openai_dialect,
        context_window=int(window) if window else None,
    )
