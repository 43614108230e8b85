"""The service graph of one process, built once from settings on first use (never at import).

Each service is imported and built the first time a handler asks for it, so the `models`
function never loads the chat schemas and every function's cold start pays only for its own.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from openai_cf.errors import InternalServerError, OpenAICFError
from openai_cf.settings import Settings

if TYPE_CHECKING:
    from openai_cf.credentials import Credentials
    from openai_cf.services.assistants import AssistantsService
    from openai_cf.services.audio import AudioService
    from openai_cf.services.chat import ChatService
    from openai_cf.services.completions import CompletionsService
    from openai_cf.services.embeddings import EmbeddingsService
    from openai_cf.services.files import FilesService
    from openai_cf.services.image_edits import ImageEdits
    from openai_cf.services.images import ImagesService
    from openai_cf.services.messages import MessageBuilder, MessagesService
    from openai_cf.services.models import ModelRegistry
    from openai_cf.services.moderations import ModerationsService
    from openai_cf.services.run_ledger import RunLedger
    from openai_cf.services.run_steps import RunStepsService
    from openai_cf.services.run_streams import RunStreams
    from openai_cf.services.run_worker import RunWorker
    from openai_cf.services.runs import RunsService
    from openai_cf.services.speech import SpeechService
    from openai_cf.services.threads import ThreadsService
    from openai_cf.services.uploads import UploadsService
    from openai_cf.storage.aws import AwsClients
    from openai_cf.storage.blobs import BlobStore
    from openai_cf.storage.table import Table
    from openai_cf.workers_ai.client import WorkersAIClient


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # -- what talks to the world -------------------------------------------------------------
    @cached_property
    def credentials(self) -> Credentials:
        """Bearer tokens and Cloudflare credentials: the environment's, else the secrets' (cached
        with a TTL). Nothing is read until a value is asked for."""
        from openai_cf.credentials import Credentials, secrets_manager_fetch

        return Credentials(self.settings, secrets_manager_fetch(lambda: self._aws.client("secretsmanager")))

    @cached_property
    def workers_ai(self) -> WorkersAIClient:
        """Built once credentials exist (until then every use raises `upstream_not_configured`); the
        token is asked for again before each call, so a changed secret reaches this client."""
        from openai_cf.workers_ai.client import WorkersAIClient

        settings = self.settings
        cloudflare = self.credentials.cloudflare()
        if not cloudflare.configured:
            raise InternalServerError(
                "Workers AI is not configured: set CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN (deployed: "
                "the cloudflare_account_id context and the Cloudflare token secret; locally, `openai-cf serve` "
                "starts the offline emulator without them).",
                code="upstream_not_configured",
                should_retry=False,
            )
        return WorkersAIClient(
            base_url=settings.cloudflare_api_base_url,
            account_id=cloudflare.account_id or "",
            api_token=self.credentials.cloudflare_api_token,
            gateway_id=settings.cloudflare_ai_gateway_id,
            connect_timeout=settings.upstream_connect_timeout,
            read_timeout=settings.upstream_read_timeout,
            max_retries=settings.upstream_max_retries,
        )

    @cached_property
    def table(self) -> Table:
        from openai_cf.storage.table import Table

        return Table(self._aws, self.settings.table_name)

    @cached_property
    def blobs(self) -> BlobStore:
        from openai_cf.storage.blobs import BlobStore

        return BlobStore(self._aws, self.settings.bucket_name)

    @cached_property
    def _aws(self) -> AwsClients:
        from openai_cf.storage.aws import AwsClients

        return AwsClients(region=self.settings.aws_region, endpoint_url=self.settings.aws_endpoint_url)

    # -- services -----------------------------------------------------------------------------
    @cached_property
    def models(self) -> ModelRegistry:
        from openai_cf.services.aliases import merged_aliases
        from openai_cf.services.models import ModelRegistry

        return ModelRegistry(
            self.workers_ai, merged_aliases(self.settings.model_aliases), ttl_seconds=self.settings.catalog_ttl_seconds
        )

    @cached_property
    def chat(self) -> ChatService:
        from openai_cf.services.chat import ChatService
        from openai_cf.services.image_fetch import ImageFetcher, ImageLimits

        images = ImageFetcher(
            ImageLimits(
                max_count=self.settings.image_max_count,
                max_bytes=self.settings.image_fetch_max_bytes,
                max_total_bytes=self.settings.image_fetch_max_total_bytes,
                timeout=self.settings.image_fetch_timeout,
                allow_private=self.settings.image_fetch_allow_private,
            )
        )
        return ChatService(self.workers_ai, self.models, images, self.settings)

    @cached_property
    def completions(self) -> CompletionsService:
        from openai_cf.services.completions import CompletionsService

        return CompletionsService(self.workers_ai, self.models)

    @cached_property
    def embeddings(self) -> EmbeddingsService:
        from openai_cf.services.embeddings import EmbeddingsService

        return EmbeddingsService(self.workers_ai, self.models)

    @cached_property
    def audio(self) -> AudioService:
        from openai_cf.services.audio import AudioService

        return AudioService(self.workers_ai, self.models)

    @cached_property
    def speech(self) -> SpeechService:
        from openai_cf.services.speech import SpeechService

        return SpeechService(self.workers_ai, self.models)

    @cached_property
    def moderations(self) -> ModerationsService:
        from openai_cf.services.moderations import ModerationsService

        return ModerationsService(self.workers_ai, self.models)

    @cached_property
    def images(self) -> ImagesService:
        from openai_cf.services.images import ImagesService
        from openai_cf.storage.images import ImageStore

        return ImagesService(self.workers_ai, self.models, ImageStore(self.blobs))

    @cached_property
    def image_edits(self) -> ImageEdits:
        from openai_cf.services.image_edits import ImageEdits

        return ImageEdits(self.images)

    @cached_property
    def files(self) -> FilesService:
        from openai_cf.services.files import FilesService
        from openai_cf.storage.files import FileRepository

        return FilesService(FileRepository(self.table), self.blobs)

    @cached_property
    def uploads(self) -> UploadsService:
        from openai_cf.services.uploads import UploadsService
        from openai_cf.storage.files import FileRepository
        from openai_cf.storage.uploads import UploadRepository

        return UploadsService(UploadRepository(self.table, FileRepository(self.table)), self.blobs)

    @cached_property
    def assistants(self) -> AssistantsService:
        from openai_cf.services.assistants import AssistantsService
        from openai_cf.storage.assistants import AssistantRepository

        return AssistantsService(AssistantRepository(self.table), self.models)

    @cached_property
    def threads(self) -> ThreadsService:
        from openai_cf.services.threads import ThreadsService
        from openai_cf.storage.messages import MessageRepository
        from openai_cf.storage.threads import ThreadRepository

        return ThreadsService(
            ThreadRepository(self.table), MessageRepository(self.table), self._message_builder,
            runs=self.run_ledger.runs,
        )  # fmt: skip

    @cached_property
    def messages(self) -> MessagesService:
        from openai_cf.services.messages import MessagesService
        from openai_cf.storage.messages import MessageRepository
        from openai_cf.storage.threads import ThreadRepository

        return MessagesService(ThreadRepository(self.table), MessageRepository(self.table), self._message_builder)

    @cached_property
    def run_ledger(self) -> RunLedger:
        from openai_cf.services.run_ledger import RunLedger
        from openai_cf.storage.run_steps import StepRepository
        from openai_cf.storage.runs import RunRepository

        return RunLedger(RunRepository(self.table), StepRepository(self.table))

    @cached_property
    def runs(self) -> RunsService:
        from openai_cf.services.runs import RunsConfig, RunsService
        from openai_cf.storage.assistants import AssistantRepository
        from openai_cf.storage.messages import MessageRepository
        from openai_cf.storage.run_queue import RunQueue
        from openai_cf.storage.threads import ThreadRepository

        url = self.settings.run_queue_url
        config = RunsConfig(RunQueue(self._aws, url) if url else None, self.settings.run_expires_seconds)
        return RunsService(
            self.run_ledger, ThreadRepository(self.table), AssistantRepository(self.table),
            MessageRepository(self.table), self._message_builder, self.threads, self.models, config,
        )  # fmt: skip

    @cached_property
    def run_streams(self) -> RunStreams:
        """Streaming runs: worked on inline, in the `runs` function, by the run executor's step."""
        from openai_cf.services.run_streams import RunStreams

        return RunStreams(self.runs, self.run_ledger, self.run_worker)

    @cached_property
    def run_steps(self) -> RunStepsService:
        from openai_cf.services.run_steps import RunStepsService
        from openai_cf.storage.threads import ThreadRepository

        return RunStepsService(ThreadRepository(self.table), self.run_ledger.runs, self.run_ledger.steps)

    @cached_property
    def run_worker(self) -> RunWorker:
        """One step of a run's work, as the run executor does it (`openai_cf.executor`)."""
        from openai_cf.services.file_images import StoredImages
        from openai_cf.services.run_context import RunContext
        from openai_cf.services.run_outcome import Outcomes
        from openai_cf.services.run_worker import RunWorker
        from openai_cf.storage.messages import MessageRepository
        from openai_cf.storage.threads import ThreadRepository

        messages = MessageRepository(self.table)
        images = StoredImages(self.files, max_bytes=self.settings.image_fetch_max_bytes)
        context = RunContext(messages, self.run_ledger.steps, images, self._context_window)
        return RunWorker(
            self.run_ledger, ThreadRepository(self.table), context, Outcomes(messages, self.run_ledger.steps),
            self.chat, check_seconds=self.settings.run_cancel_check_seconds,
        )  # fmt: skip

    def _context_window(self, model: str) -> int | None:
        from openai_cf.workers_ai.catalog import TEXT_GENERATION

        try:
            return self.models.chat_profile(self.models.resolve(model, task=TEXT_GENERATION)).context_window
        except OpenAICFError:
            return None  # the chat call will say what is wrong with the model

    @cached_property
    def _message_builder(self) -> MessageBuilder:
        from openai_cf.services.messages import MessageBuilder

        return MessageBuilder(self.files)


def build_services(settings: Settings) -> Services:
    return Services(settings)
