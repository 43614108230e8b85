"""The service graph of one process, built once from settings on first use (never at import)."""

from __future__ import annotations

from dataclasses import dataclass

from openai_cf.errors import InternalServerError
from openai_cf.services.aliases import merged_aliases
from openai_cf.services.chat import ChatService
from openai_cf.services.completions import CompletionsService
from openai_cf.services.embeddings import EmbeddingsService
from openai_cf.services.image_fetch import ImageFetcher
from openai_cf.services.models import ModelRegistry
from openai_cf.settings import Settings
from openai_cf.workers_ai.client import WorkersAIClient


@dataclass
class Services:
    settings: Settings
    workers_ai: WorkersAIClient
    models: ModelRegistry
    chat: ChatService
    completions: CompletionsService
    embeddings: EmbeddingsService


def build_services(settings: Settings) -> Services:
    if not settings.has_cloudflare_credentials:
        raise InternalServerError(
            "Workers AI is not configured: set CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN "
            "(or run `openai-cf serve`, which starts the offline emulator).",
            code="upstream_not_configured",
            should_retry=False,
        )
    client = WorkersAIClient(
        base_url=settings.cloudflare_api_base_url,
        account_id=settings.cloudflare_account_id or "",
        api_token=settings.cloudflare_api_token or "",
        gateway_id=settings.cloudflare_ai_gateway_id,
        connect_timeout=settings.upstream_connect_timeout,
        read_timeout=settings.upstream_read_timeout,
        max_retries=settings.upstream_max_retries,
    )
    models = ModelRegistry(client, merged_aliases(settings.model_aliases), ttl_seconds=settings.catalog_ttl_seconds)
    images = ImageFetcher(
        max_bytes=settings.image_fetch_max_bytes,
        timeout=settings.image_fetch_timeout,
        allow_private=settings.image_fetch_allow_private,
    )
    return Services(
        settings=settings,
        workers_ai=client,
        models=models,
        chat=ChatService(client, models, images, settings),
        completions=CompletionsService(client, models),
        embeddings=EmbeddingsService(client, models),
    )
