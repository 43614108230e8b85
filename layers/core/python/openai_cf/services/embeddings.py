"""Embeddings: inputs split into upstream batches (order kept), floats or base64 out.

Workers AI reports no usage for embeddings, so `usage` is our estimate (`tokens.py`): honest about
being an estimate in the README, but never zero for non-empty input.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

from openai_cf.errors import BadGatewayError, InvalidRequestError
from openai_cf.schemas.embeddings import CreateEmbeddingResponse, Embedding, EmbeddingCreateParams, Usage
from openai_cf.services.generation import fan_out, log_generation
from openai_cf.services.models import ModelRegistry
from openai_cf.tokens import estimate_tokens
from openai_cf.workers_ai.catalog import TEXT_EMBEDDINGS, ModelInfo, branch
from openai_cf.workers_ai.client import WorkersAIClient
from openai_cf.workers_ai.text import Usage as TokenUsage

MAX_BATCH = 100


def _inputs(value: str | list[Any]) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not items:
        raise InvalidRequestError("'input' must not be empty.", param="input", code="invalid_value")
    texts: list[str] = []
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise InvalidRequestError(
                "Token arrays are not supported: Workers AI embeds text. Send strings.",
                param="input" if isinstance(value, list) and isinstance(item, int) else f"input[{i}]",
                code="unsupported_value",
            )
        if not item:
            raise InvalidRequestError(
                f"'input[{i}]' must not be an empty string.", param=f"input[{i}]", code="invalid_value"
            )
        texts.append(item)
    return texts


def _batch_size(info: ModelInfo) -> int:
    text = ((branch(info.input_schema, "text") or {}).get("properties") or {}).get("text") or {}
    for option in text.get("oneOf") or text.get("anyOf") or [text]:
        if isinstance(option, dict) and option.get("type") == "array" and option.get("maxItems"):
            return min(MAX_BATCH, int(option["maxItems"]))
    return MAX_BATCH


def _encode(vector: list[float], encoding: str | None) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector


class EmbeddingsService:
    def __init__(self, client: WorkersAIClient, models: ModelRegistry) -> None:
        self.client = client
        self.models = models

    def create(self, params: EmbeddingCreateParams) -> CreateEmbeddingResponse:
        model = self.models.resolve(params.model, task=TEXT_EMBEDDINGS)
        texts = _inputs(params.input)
        size = _batch_size(model.info)
        batches = [texts[i : i + size] for i in range(0, len(texts), size)]
        results = fan_out(len(batches), lambda i: self._embed(model.name, batches[i]))
        vectors = [v for batch in results for v in batch]
        if len(vectors) != len(texts):
            raise BadGatewayError("Workers AI returned a different number of embeddings than inputs.")
        self._check_dimensions(params, model.requested, len(vectors[0]))
        tokens = sum(estimate_tokens(t) for t in texts)
        log_generation("embeddings", model.name, TokenUsage(prompt_tokens=tokens), n=len(texts), stream=False)
        return CreateEmbeddingResponse(
            data=[Embedding(index=i, embedding=_encode(v, params.encoding_format)) for i, v in enumerate(vectors)],
            model=model.name,
            usage=Usage(prompt_tokens=tokens, total_tokens=tokens),
        )

    def _embed(self, model: str, texts: list[str]) -> list[list[float]]:
        result = self.client.run(model, {"text": texts})
        data = result.get("data") if isinstance(result, dict) else None
        if not isinstance(data, list):
            raise BadGatewayError("Workers AI answered an embeddings request without `data`.")
        return data

    @staticmethod
    def _check_dimensions(params: EmbeddingCreateParams, model: str, native: int) -> None:
        if params.dimensions is not None and params.dimensions != native:
            # Truncating vectors of models not trained for it (bge) would silently degrade them.
            raise InvalidRequestError(
                f"The model `{model}` produces {native}-dimensional embeddings and cannot shorten them; "
                f"omit `dimensions` or set it to {native}.",
                param="dimensions",
                code="unsupported_value",
            )
