"""Deterministic text generation: what the emulated model "says" for a chat or prompt request.

This is part of a development and test double, not Workers AI. The reply depends only on the model,
the messages/prompt and `seed`; steering directives (see `directives`) shape it. A token is a
whitespace-separated word, the first without and later ones with a leading space.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import string
from dataclasses import dataclass
from typing import Any

from openai_cf.tokens import estimate_tokens
from openai_cf.workers_ai.catalog import Dialect, ModelInfo, branch, chat_profile

from .directives import Directives, strip_directives
from .json_synth import synthesise

OPENING = "This is the offline Workers AI emulator answering."
VOCABULARY = (
    *("cloud", "edge", "model", "token", "stream", "answer", "worker", "request", "response", "quick"),
    *("simple", "steady", "bright", "calm", "clear", "river", "mountain", "signal", "packet", "latency"),
    *("bridge", "lambda", "vector", "window", "context", "reply", "sample", "offline", "local", "test"),
    *("double", "value", "result", "green", "amber", "silver"),
)
DEFAULT_TOKENS = 24
REASONING = "The user asked a question; the emulator answers deterministically without thinking hard."
TOOL_RESULT_PREFIX = "The tool returned: "

# Native models whose tool calls use the nested `{id, type, function}` shape (and stream incrementally).
NESTED_TOOL_CALL_MODELS = frozenset(
    {"@cf/meta/llama-4-scout-17b-16e-instruct", "@cf/mistralai/mistral-small-3.1-24b-instruct"}
)
# Max-tokens default where the schema has none to read (workers-ai-contract section 11 notes).
_SPECIAL_DEFAULTS = {("@cf/qwen/qwen3-30b-a3b-fp8", "prompt"): 2000}

_WORDS = re.compile(r"\s*\S+")
_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]

    @property
    def arguments_json(self) -> str:
        return json.dumps(self.arguments)


@dataclass(frozen=True)
class Completion:
    """Everything one generation produced, before it is shaped into a dialect."""

    model: str
    dialect: Dialect
    digest: bytes
    reasoning: tuple[str, ...]
    content: tuple[str, ...]
    tool_calls: tuple[ToolCall, ...]
    json_mode: bool
    json_value: Any
    prompt_tokens: int
    truncated: bool

    @property
    def text(self) -> str:
        return "".join(self.content)

    @property
    def nested_tool_calls(self) -> bool:
        return self.model in NESTED_TOOL_CALL_MODELS

    @property
    def completion_tokens(self) -> int:
        calls = sum(estimate_tokens(call.name + call.arguments_json) for call in self.tool_calls)
        return len(self.reasoning) + len(self.content) + calls

    @property
    def finish_reason(self) -> str:
        if self.tool_calls:
            return "tool_calls"
        return "length" if self.truncated else "stop"

    def usage(self, *, details: bool) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }
        if details:
            usage["prompt_tokens_details"] = {"cached_tokens": 0}
        return usage


def dialect_of(info: ModelInfo) -> Dialect:
    profile = chat_profile(info)
    return profile.dialect if profile else "native"


def accepts_tools(info: ModelInfo) -> bool:
    profile = chat_profile(info)
    return bool(profile and profile.tools)


def content_text(content: Any) -> str:
    """The text of a message `content`: a string, a list of parts, or a single part (text parts only)."""
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else [content]
    texts = [p.get("text") for p in parts if isinstance(p, dict) and p.get("type", "text") == "text"]
    return " ".join(t for t in texts if isinstance(t, str))


def messages_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = body.get("messages")
    return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []


def last_user_text(body: dict[str, Any]) -> str:
    """Where directives live: the last user message, else the prompt."""
    users = [m for m in messages_of(body) if m.get("role") == "user"]
    if users:
        return content_text(users[-1].get("content"))
    prompt = body.get("prompt")
    return prompt if isinstance(prompt, str) else ""


def count_prompt_tokens(body: dict[str, Any]) -> int:
    """Text tokens of every message plus 3 per message, or of the prompt; directive words don't count."""
    if "messages" in body:
        return sum(_tokens(content_text(m.get("content"))) + 3 for m in messages_of(body))
    prompt = body.get("prompt")
    return _tokens(prompt) if isinstance(prompt, str) else 0


def _tokens(text: str) -> int:
    return estimate_tokens(strip_directives(text))


def request_digest(model: str, body: dict[str, Any]) -> bytes:
    key = {
        "model": model,
        "messages": body.get("messages"),
        "prompt": body.get("prompt"),
        "seed": body.get("seed"),
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).digest()


def tokenize(text: str) -> tuple[str, ...]:
    return tuple(_WORDS.findall(text.strip()))


def default_reply(digest: bytes, count: int) -> tuple[str, ...]:
    words = OPENING.split()[:count]
    rng = random.Random(digest)
    filler = [rng.choice(VOCABULARY) for _ in range(count - len(words))]
    if filler:
        filler[-1] += "."
    return tokenize(" ".join(words + filler))


def max_tokens_limit(info: ModelInfo, body: dict[str, Any], dialect: Dialect) -> int | None:
    for key in ("max_completion_tokens", "max_tokens") if dialect == "openai" else ("max_tokens",):
        if isinstance(body.get(key), int):
            return int(body[key])
    kind = "messages" if "messages" in body else "prompt"
    properties = (branch(info.input_schema, kind) or {}).get("properties") or {}
    default = (properties.get("max_tokens") or {}).get("default")
    return default if isinstance(default, int) else _SPECIAL_DEFAULTS.get((info.name, kind))


def json_request(body: dict[str, Any], directives: Directives, dialect: Dialect) -> tuple[bool, Any]:
    """(JSON mode?, the schema to satisfy or None)."""
    fmt = body.get("response_format")
    fmt = fmt if isinstance(fmt, dict) else {}
    if fmt.get("type") not in ("json_object", "json_schema"):
        return directives.json, None
    schema = fmt.get("json_schema")
    if dialect == "openai" and isinstance(schema, dict):
        schema = schema.get("schema")
    return True, schema if fmt.get("type") == "json_schema" else None


def _tool_parameters(body: dict[str, Any]) -> dict[str, Any]:
    """Tool name -> parameters schema, from legacy `{name, parameters}` or OpenAI `{type, function}` items."""
    found: dict[str, Any] = {}
    for tool in body.get("tools") or []:
        if not isinstance(tool, dict):
            continue
        spec = tool["function"] if isinstance(tool.get("function"), dict) else tool
        if isinstance(spec.get("name"), str):
            found[spec["name"]] = spec.get("parameters") or {}
    return found


def _tool_call_id(digest: bytes, index: int, dialect: Dialect) -> str:
    seed = hashlib.sha256(digest + index.to_bytes(2, "big")).digest()
    if dialect == "openai":
        return "chatcmpl-tool-" + seed.hex()[:32]
    rng = random.Random(seed)
    return "".join(rng.choice(_ALNUM) for _ in range(9))


def plan_tool_calls(
    body: dict[str, Any], directives: Directives, dialect: Dialect, digest: bytes
) -> tuple[ToolCall, ...]:
    """The tool calls `emulate:tool=` asks for, limited to tools the request offers."""
    last = (messages_of(body) or [{}])[-1]
    if not directives.tools or last.get("role") == "tool" or body.get("tool_choice") == "none":
        return ()
    available = _tool_parameters(body)
    names = [name for name in directives.tools if name in available]
    calls = []
    for index, name in enumerate(names):
        arguments = synthesise(available[name], fallback={})
        if index == 0 and directives.args is not None:
            arguments = directives.args
        if not isinstance(arguments, dict):
            arguments = {"value": arguments}
        calls.append(ToolCall(_tool_call_id(digest, index, dialect), name, arguments))
    return tuple(calls)


def _reply_text(body: dict[str, Any], directives: Directives, digest: bytes) -> tuple[str, ...]:
    last = (messages_of(body) or [{}])[-1]
    if last.get("role") == "tool":
        result = " ".join(content_text(last.get("content")).split())[:200]
        return tokenize(TOOL_RESULT_PREFIX + result)
    if directives.echo:
        return tokenize(strip_directives(last_user_text(body)))
    count = directives.tokens if directives.tokens is not None else DEFAULT_TOKENS
    return default_reply(digest, count)


def _cap(parts: tuple[tuple[str, ...], ...], limit: int | None) -> tuple[tuple[tuple[str, ...], ...], bool]:
    """Cut the concatenation of `parts` at `limit` tokens; report whether anything was cut."""
    if limit is None:
        return parts, False
    budget, capped = max(0, limit), []
    for part in parts:
        capped.append(part[:budget])
        budget -= len(capped[-1])
    return tuple(capped), sum(map(len, capped)) < sum(map(len, parts))


def plan_completion(info: ModelInfo, body: dict[str, Any], directives: Directives) -> Completion:
    """Decide the whole reply (reasoning, content, tool calls, usage) for one text-generation request."""
    dialect = dialect_of(info)
    digest = request_digest(info.name, body)
    calls = plan_tool_calls(body, directives, dialect, digest) if accepts_tools(info) else ()
    json_mode, schema = json_request(body, directives, dialect)
    json_value = synthesise(schema) if json_mode and not calls else None
    if calls:
        content: tuple[str, ...] = ()
    elif json_mode:
        content = tokenize(json.dumps(json_value))
    else:
        content = _reply_text(body, directives, digest)
    reasoning = tokenize(REASONING) if directives.reasoning and dialect == "openai" else ()
    (reasoning, content), truncated = _cap((reasoning, content), max_tokens_limit(info, body, dialect))
    return Completion(
        model=info.name,
        dialect=dialect,
        digest=digest,
        reasoning=reasoning,
        content=content,
        tool_calls=calls,
        json_mode=json_mode and not calls,
        json_value=json_value,
        prompt_tokens=count_prompt_tokens(body),
        truncated=truncated,
    )
