"""The Text Embeddings task: deterministic, L2-normalised pseudo-embeddings of the right dimension.

This is part of a development and test double, not Workers AI: vectors carry no meaning beyond
"same model and text -> same vector". Inputs: `text` (bge-*, embeddinggemma, bge-m3, qwen3),
`queries`/`documents` (qwen3-embedding), `contexts` with optional `query` (bge-m3).
"""

from __future__ import annotations

import hashlib
import math
import random
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from .context import RunContext, TaskHandler
from .errors import not_implemented, success_response

DIMENSIONS: dict[str, int] = {
    "@cf/baai/bge-small-en-v1.5": 384,
    "@cf/baai/bge-base-en-v1.5": 768,
    "@cf/baai/bge-large-en-v1.5": 1024,
    "@cf/baai/bge-m3": 1024,
    "@cf/qwen/qwen3-embedding-0.6b": 1024,
    "@cf/google/embeddinggemma-300m": 768,
}
DEFAULT_DIMENSION = 768
_INLINE_LIMIT = 4


def embed(model: str, text: str) -> list[float]:
    """A unit vector seeded by sha256(model, text), rounded to 6 decimals."""
    seed = hashlib.sha256(f"{model}\n{text}".encode()).digest()
    rng = random.Random(seed)
    vector = [rng.gauss(0.0, 1.0) for _ in range(DIMENSIONS.get(model, DEFAULT_DIMENSION))]
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [round(x / norm, 6) for x in vector]


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _context_texts(body: dict[str, Any]) -> list[str]:
    contexts = body.get("contexts")
    if not isinstance(contexts, list):
        return []
    return [c["text"] for c in contexts if isinstance(c, dict) and isinstance(c.get("text"), str)]


def input_texts(body: dict[str, Any]) -> list[str]:
    """Every text to embed, in request order (qwen3: queries, then documents, then text)."""
    texts = _as_list(body.get("queries")) + _as_list(body.get("documents")) + _as_list(body.get("text"))
    return texts or _context_texts(body)


def first_input_text(body: dict[str, Any]) -> str:
    """Where embedding directives live: the first input (or the bge-m3 query)."""
    query = body.get("query")
    if isinstance(query, str):
        return query
    texts = input_texts(body)
    return texts[0] if texts else ""


def _scores(model: str, query: str, contexts: list[str]) -> list[dict[str, Any]]:
    q = embed(model, query)
    scored = [
        {"id": i, "score": round(sum(a * b for a, b in zip(q, embed(model, t), strict=True)), 6)}
        for i, t in enumerate(contexts)
    ]
    return sorted(scored, key=lambda item: -float(item["score"]))


def _pooling(ctx: RunContext) -> dict[str, Any]:
    """bge-* report their pooling; models whose output schema has no `pooling` omit it."""
    if "pooling" not in str(ctx.info.output_schema):
        return {}
    return {"pooling": ctx.body.get("pooling") or "mean"}


async def run_embeddings(ctx: RunContext) -> Response:
    model, body = ctx.info.name, ctx.body
    if "requests" in body:
        raise not_implemented(f"async batch requests for {model}")
    if isinstance(body.get("query"), str):
        return success_response({"response": _scores(model, body["query"], _context_texts(body))})
    texts = input_texts(body)
    if len(texts) > _INLINE_LIMIT:  # keep the event loop free while a big batch is computed
        vectors = await run_in_threadpool(lambda: [embed(model, text) for text in texts])
    else:
        vectors = [embed(model, text) for text in texts]
    shape = [len(vectors), DIMENSIONS.get(model, DEFAULT_DIMENSION)]
    key = "response" if "contexts" in body and "text" not in body else "data"
    return success_response({"shape": shape, key: vectors, **_pooling(ctx)})


EMBEDDINGS_HANDLER = TaskHandler(directive_text=first_input_text, run=run_embeddings)
