"""Model names: aliases, the Workers AI catalogue (cached), and what each model can do.

`resolve` turns what a client sent (`gpt-4o`, `@cf/meta/…`) into a Workers AI model with its
schema-derived capabilities. Models missing from the packaged schemas are described from the
upstream schema endpoint once and cached, so new catalogue entries work without a release.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openai_cf import errors as e
from openai_cf.schemas.models import Model, ModelList
from openai_cf.workers_ai.catalog import ChatProfile, ModelInfo, chat_profile, packaged_models, to_unix
from openai_cf.workers_ai.client import WorkersAIClient

logger = logging.getLogger(__name__)

ALIAS_OWNER = "openai-cf"


@dataclass(frozen=True)
class ResolvedModel:
    requested: str
    info: ModelInfo

    @property
    def name(self) -> str:
        return self.info.name


class ModelRegistry:
    def __init__(
        self,
        client: WorkersAIClient,
        aliases: dict[str, str],
        *,
        ttl_seconds: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._aliases = aliases
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._described: dict[str, ModelInfo | None] = {}
        self._catalogue: tuple[float, list[Model]] | None = None

    # -- resolution --------------------------------------------------------------------------
    def resolve(self, requested: str, *, task: str) -> ResolvedModel:
        name = self._aliases.get(requested, requested)
        info = packaged_models().get(name) or self._describe(name)
        if info is None:
            raise e.model_not_found(requested)
        if info.deprecated:
            raise e.model_not_found(
                requested, detail=f"The model `{requested}` ({name}) has been retired by Workers AI."
            )
        if info.task != task:
            raise e.InvalidRequestError(
                f"The model `{requested}` ({name}) is a {info.task or 'different'} model, not a {task} model.",
                param="model",
                code="model_not_supported",
            )
        return ResolvedModel(requested=requested, info=info)

    def chat_profile(self, model: ResolvedModel) -> ChatProfile:
        profile = chat_profile(model.info)
        if profile is None:
            raise e.InvalidRequestError(
                f"The model `{model.requested}` cannot be used for chat.",
                param="model",
                code="model_not_supported",
            )
        return profile

    def _describe(self, name: str) -> ModelInfo | None:
        if not name.startswith(("@cf/", "@hf/")):
            return None
        with self._lock:
            if name in self._described:
                return self._described[name]
        try:
            schema = self._client.model_schema(name)
        except (e.NotFoundError, e.InvalidRequestError):
            schema = {}
        info = self._info_from_schema(name, schema) if schema else None
        with self._lock:
            self._described[name] = info
        return info

    def _info_from_schema(self, name: str, schema: dict[str, Any]) -> ModelInfo:
        entry = next((m for m in self._catalogue_entries() if m.get("name") == name), {})
        task = (entry.get("task") or {}).get("name") or _guess_task(schema.get("input") or {})
        return ModelInfo(
            name=name,
            task=task,
            description=entry.get("description") or "",
            input_schema=schema.get("input"),
            output_schema=schema.get("output"),
            flags={
                str(p.get("property_id")): p.get("value") for p in entry.get("properties") or [] if isinstance(p, dict)
            },
        )

    # -- listing -----------------------------------------------------------------------------
    def list_models(self) -> ModelList:
        return ModelList(data=[*self._alias_models(), *self._catalogue_models()])

    def retrieve(self, model_id: str) -> Model:
        for model in self._alias_models():
            if model.id == model_id:
                return model
        for model in self._catalogue_models():
            if model.id == model_id:
                return model
        raise e.model_not_found(model_id)

    def _alias_models(self) -> list[Model]:
        models = []
        for alias, target in self._aliases.items():
            info = packaged_models().get(target)
            if info is not None and info.deprecated:
                continue
            models.append(Model(id=alias, created=info.created if info else 0, owned_by=ALIAS_OWNER))
        return models

    def _catalogue_models(self) -> list[Model]:
        now = self._clock()
        cached = self._catalogue
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        retired = {name for name, info in packaged_models().items() if info.deprecated}
        models = [_model_from_entry(e) for e in self._catalogue_entries() if e.get("name") not in retired]
        self._catalogue = (now, models)
        return models

    def _catalogue_entries(self) -> list[dict[str, Any]]:
        try:
            return self._client.search_models()
        except e.OpenAICFError as exc:
            # Listing must not fail because the catalogue API hiccups: fall back to what we ship.
            logger.warning("model catalogue unavailable, serving packaged list", extra={"error": exc.code})
            return [{"name": m.name} for m in packaged_models().values() if not m.deprecated]


def _model_from_entry(entry: dict[str, Any]) -> Model:
    name = str(entry.get("name"))
    info = packaged_models().get(name)
    created = info.created if info else to_unix(entry.get("created_at"))
    owner = name.split("/")[1] if name.count("/") >= 2 else "cloudflare"
    return Model(id=name, created=created, owned_by=owner)


def _guess_task(input_schema: dict[str, Any]) -> str:
    text = str(input_schema)
    if "'messages'" in text or "'prompt'" in text:
        return "Text Generation"
    if "'text'" in text:
        return "Text Embeddings"
    return ""
