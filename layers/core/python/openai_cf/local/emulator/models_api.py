"""The catalogue endpoints: `GET …/ai/models/search` and `GET …/ai/models/schema?model=`.

This is part of a development and test double, not Workers AI. It serves the models packaged in
`openai_cf/data/workers_ai_models.json`; deprecated models are left out of search results.
"""

from __future__ import annotations

import json
import uuid
from functools import cache
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from openai_cf.workers_ai.catalog import packaged_models

from .errors import EmulatorError, success_response

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100

TASK_DESCRIPTIONS = {
    "Text Generation": "Family of generative text models, such as large language models (LLM), "
    "that can be adapted for a variety of natural language tasks.",
    "Text Embeddings": "Feature extraction models transform raw data into numerical features that "
    "can be processed while preserving the information in the original dataset.",
    "Automatic Speech Recognition": "Automatic speech recognition (ASR) models convert a speech "
    "signal, typically an audio input, to text.",
    "Text-to-Image": "Generates images from input text.",
    "Text-to-Speech": "Text-to-Speech (TTS) models convert text into natural-sounding speech.",
    "Translation": "Translation models convert a sequence of text from one language to another.",
    "Text Classification": "Sentiment analysis or text classification is a common NLP task that "
    "classifies a text input into labels or classes.",
}

# For models whose published schemas are omitted from the packaged data (the chat-completions family).
CHAT_COMPLETION_OUTPUT_STANDIN: dict[str, Any] = {
    "$comment": "Compact stand-in (openai-cf emulator) for ChatCompletionsOutput in workerd's ai.d.ts.",
    "oneOf": [
        {
            "type": "object",
            "contentType": "application/json",
            "properties": {
                "id": {"type": "string"},
                "object": {"type": "string"},
                "created": {"type": "integer"},
                "model": {"type": "string"},
                "choices": {"type": "array", "items": {"type": "object"}},
                "usage": {"type": "object"},
            },
        },
        {"type": "string", "contentType": "text/event-stream", "format": "binary"},
    ],
}


@cache
def _raw_entries() -> tuple[dict[str, Any], ...]:
    text = resources.files("openai_cf.data").joinpath("workers_ai_models.json").read_text("utf-8")
    return tuple(json.loads(text)["models"])


def deprecation_date(name: str) -> str:
    """The `lifecycle.deprecated_on` date of a packaged model (Cloudflare's 2026-05-30 wave by default)."""
    for entry in _raw_entries():
        if entry["name"] == name:
            return str((entry.get("lifecycle") or {}).get("deprecated_on") or "2026-05-30")
    return "2026-05-30"


def _task(name: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"workers-ai-task:{name}")),
        "name": name,
        "description": TASK_DESCRIPTIONS.get(name, ""),
    }


def catalogue_item(entry: dict[str, Any]) -> dict[str, Any]:
    task = entry.get("task")
    task_name = task.get("name", "") if isinstance(task, dict) else str(task or "")
    return {
        "id": entry.get("id") or str(uuid.uuid5(uuid.NAMESPACE_URL, entry["name"])),
        "source": 1,
        "name": entry["name"],
        "description": entry.get("description") or "",
        "task": _task(task_name),
        "tags": [],
        "properties": [dict(p) for p in entry.get("properties") or []],
        "created_at": entry.get("created_at"),
    }


def _matches(item: dict[str, Any], query: dict[str, str]) -> bool:
    task, author, search = query.get("task"), query.get("author"), query.get("search")
    if task and task.lower() not in (item["task"]["name"].lower(), item["task"]["id"]):
        return False
    if author and item["name"].split("/")[1:2] != [author.lower()]:
        return False
    if search and search.lower() not in f"{item['name']} {item['description']}".lower():
        return False
    beta = any(p.get("property_id") == "beta" and str(p.get("value")) == "true" for p in item["properties"])
    return not (query.get("hide_experimental", "").lower() == "true" and beta)


def _int_param(value: str | None, default: int, *, low: int, high: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        number = default
    return max(low, min(high, number))


async def search_models(request: Request) -> JSONResponse:
    query = dict(request.query_params)
    models = packaged_models()
    items = [catalogue_item(e) for e in _raw_entries() if not models[e["name"]].deprecated]
    found = [item for item in items if _matches(item, query)]
    page = _int_param(query.get("page"), 1, low=1, high=1_000_000)
    per_page = _int_param(query.get("per_page"), DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE)
    chunk = found[(page - 1) * per_page : page * per_page]
    info = {"page": page, "per_page": per_page, "count": len(chunk), "total_count": len(found)}
    return success_response(chunk, extra={"result_info": info})


async def model_schema(request: Request) -> JSONResponse:
    name = request.query_params.get("model", "")
    info = packaged_models().get(name)
    if info is None:
        raise EmulatorError(5007, model=name)
    output = info.output_schema if info.output_schema is not None else CHAT_COMPLETION_OUTPUT_STANDIN
    return success_response({"input": info.input_schema or {}, "output": output})
