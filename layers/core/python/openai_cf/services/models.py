"""Model names: aliases, the Workers AI catalogue (cached), and what each model can do.

`resolve` turns what a client sent (`gpt-4o`, `@cf/meta/…`) into a Workers AI model with its
schema-derived capabilities. Models missing from the packaged schemas are described from the
upstream schema endpoint, so new catalogue entries work without a release. Model names come from
clients, so nothing here costs an upstream call or a cache entry per made-up name: malformed names
are refused, names absent from the (cached) catalogue are unknown without asking further, and both
description caches are bounded.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openai_cf import errors as e
from openai_cf.schemas.models import Model, ModelList
from openai_cf.services.lru import LRUCache
from openai_cf.workers_ai.catalog import ChatProfile, ModelInfo, chat_profile, packaged_models, to_unix
from openai_cf.workers_ai.client import WorkersAIClient

logger = logging.getLogger(__name__)

ALIAS_OWNER = "openai-cf"
# `@cf/meta/llama-3.3-70b-instruct-fp8-fast`: segments never start with a dot, so no `..`.
WORKERS_AI_NAME = re.compile(r"@(?:cf|hf)(?:/[A-Za-z0-9][A-Za-z0-9._-]*)+")
MAX_WORKERS_AI_NAME = 128  # the longest catalogue name today has 45 characters
# The catalogue holds about a hundred models; names upstream denied are kept for the catalogue's TTL.
MAX_DESCRIBED = 256
MAX_UNKNOWN = 1024
# A catalogue that failed to load is asked again sooner than a good one is refreshed.
FAILED_CATALOGUE_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class ResolvedModel:
    requested: str
    info: ModelInfo

    @property
    def name(self) -> str:
        return self.info.name


@dataclass(frozen=True)
class _Catalogue:
    expires: float
    entries: dict[str, dict[str, Any]]  # by model name
    models: list[Model]
    # False when the catalogue API failed and this is the packaged list: absence then proves nothing.
    complete: bool


class ModelRegistry:
    def __init__(
        self,
        client: WorkersAIClient,
        aliases: dict[str, str],
        *,
        ttl_seconds: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        max_described: int = MAX_DESCRIBED,
        max_unknown: int = MAX_UNKNOWN,
    ) -> None:
        self._client = client
        self._aliases = aliases
        self._ttl = ttl_seconds
        self._clock = clock
        self._described: LRUCache[str, ModelInfo] = LRUCache(max_described)
        self._unknown: LRUCache[str, bool] = LRUCache(max_unknown, ttl_seconds=ttl_seconds, clock=clock)
        self._catalogue_lock = threading.Lock()
        self._catalogue: _Catalogue | None = None

    # -- resolution --------------------------------------------------------------------------
    def resolve(self, requested: str, *, task: str) -> ResolvedModel:
        name = self._aliases.get(requested, requested)
        info = packaged_models().get(name) or self._describe(requested, name)
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

    def _describe(self, requested: str, name: str) -> ModelInfo | None:
        if not name.startswith("@"):
            return None  # neither an alias nor a Workers AI name
        _check_workers_ai_name(requested, name)
        info = self._described.get(name)
        if info is not None:
            return info
        catalogue = self._current_catalogue()
        entry = catalogue.entries.get(name)
        if (entry is None and catalogue.complete) or self._unknown.get(name):
            return None
        try:
            schema = self._client.model_schema(name)
        except (e.NotFoundError, e.InvalidRequestError):
            schema = {}
        if not schema:
            self._unknown.put(name, True)
            return None
        info = _info_from_schema(name, schema, entry or {})
        self._described.put(name, info)
        return info

    # -- listing -----------------------------------------------------------------------------
    def list_models(self) -> ModelList:
        return ModelList(data=[*self._alias_models(), *self._current_catalogue().models])

    def retrieve(self, model_id: str) -> Model:
        for model in self._alias_models():
            if model.id == model_id:
                return model
        for model in self._current_catalogue().models:
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

    # -- the catalogue: fetched once per TTL, for listing and describing alike ----------------
    def _current_catalogue(self) -> _Catalogue:
        catalogue = self._catalogue
        if catalogue is not None and self._clock() < catalogue.expires:
            return catalogue
        with self._catalogue_lock:
            # Whoever waited for the lock finds the catalogue the first caller fetched.
            catalogue = self._catalogue
            if catalogue is None or self._clock() >= catalogue.expires:
                catalogue = self._catalogue = self._fetch_catalogue()
            return catalogue

    def _fetch_catalogue(self) -> _Catalogue:
        try:
            entries, complete = self._client.search_models(), True
        except e.OpenAICFError as exc:
            # Listing must not fail because the catalogue API hiccups: fall back to what we ship.
            logger.warning("model catalogue unavailable, serving packaged list", extra={"error": exc.code})
            entries = [{"name": m.name} for m in packaged_models().values() if not m.deprecated]
            complete = False
        by_name = {entry["name"]: entry for entry in entries if isinstance(entry, dict) and _named(entry)}
        retired = {name for name, info in packaged_models().items() if info.deprecated}
        models = [_model_from_entry(entry) for name, entry in by_name.items() if name not in retired]
        ttl = self._ttl if complete else min(self._ttl, FAILED_CATALOGUE_RETRY_SECONDS)
        return _Catalogue(expires=self._clock() + ttl, entries=by_name, models=models, complete=complete)


def _named(entry: dict[str, Any]) -> bool:
    return isinstance(entry.get("name"), str)


def _check_workers_ai_name(requested: str, name: str) -> None:
    if len(name) > MAX_WORKERS_AI_NAME or not WORKERS_AI_NAME.fullmatch(name):
        raise e.InvalidRequestError(
            f"`{requested}` is not a valid model name: Workers AI names are `@cf/` or `@hf/` followed by "
            f"slash-separated segments of letters, digits, `.`, `_` and `-`, at most {MAX_WORKERS_AI_NAME} "
            "characters in all.",
            param="model",
            code="invalid_value",
        )


def _info_from_schema(name: str, schema: dict[str, Any], entry: dict[str, Any]) -> ModelInfo:
    task_info = entry.get("task")  # {"name": …} in the catalogue; tolerate a bare string
    task = task_info.get("name") if isinstance(task_info, dict) else task_info
    return ModelInfo(
        name=name,
        task=str(task or _guess_task(schema.get("input") or {})),
        description=entry.get("description") or "",
        input_schema=schema.get("input"),
        output_schema=schema.get("output"),
        flags={str(p.get("property_id")): p.get("value") for p in entry.get("properties") or [] if isinstance(p, dict)},
    )


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
