"""Transcriptions and translations on Workers AI's Whisper models.

The file is checked here (not empty, an audio format Whisper decodes), the model must be a Whisper
model (`whisper-1` → whisper-large-v3-turbo by default), and each request is one upstream call:
whisper-large-v3-turbo takes base64 `audio` with `task`, `language` and `initial_prompt`; the older
`@cf/openai/whisper` and `whisper-tiny-en` take `audio` as a byte array and nothing else. A
translation uses the model's own `task: "translate"`; `whisper-tiny-en` hears only English, so
its transcript already is the translation.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from typing import Any, Literal

from openai_cf import errors as e
from openai_cf.schemas.audio import TranscriptionCreateFields, TranslationCreateFields
from openai_cf.services.audio_transcripts import Rendered, parse_result, render
from openai_cf.services.models import ModelRegistry, ResolvedModel
from openai_cf.workers_ai.client import WorkersAIClient

logger = logging.getLogger(__name__)

SPEECH_RECOGNITION = "Automatic Speech Recognition"
# The formats OpenAI accepts (CreateTranscriptionRequest.file), by file extension.
AUDIO_EXTENSIONS = frozenset({"flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "oga", "opus", "wav", "webm"})

Task = Literal["transcribe", "translate"]


@dataclass(frozen=True)
class AudioUpload:
    data: bytes
    filename: str


def _sniffed(data: bytes) -> bool:
    """A nameless upload (the SDK calls it `upload`) is accepted when its first bytes say audio."""
    return (
        data.startswith((b"ID3", b"fLaC", b"OggS", b"\x1a\x45\xdf\xa3"))
        or (data[:4] == b"RIFF" and data[8:12] == b"WAVE")
        or data[4:8] == b"ftyp"
        or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)  # an MPEG audio frame
    )


def check_upload(upload: AudioUpload) -> None:
    if not upload.data:
        raise e.InvalidRequestError("The audio file is empty.", param="file", code="empty_file")
    name, dot, extension = upload.filename.rpartition(".")
    if dot and name and extension.lower() in AUDIO_EXTENSIONS:
        return
    if not (dot and name) and _sniffed(upload.data):
        return
    raise e.InvalidRequestError(
        f"Invalid file format. Supported formats: {sorted(AUDIO_EXTENSIONS)}",
        param="file",
        code="invalid_file_format",
    )


class AudioService:
    def __init__(self, client: WorkersAIClient, models: ModelRegistry) -> None:
        self.client = client
        self.models = models

    def transcribe(self, upload: AudioUpload, fields: TranscriptionCreateFields) -> Rendered:
        _refuse_unsupported(fields)
        model = self._resolve(fields.model)
        transcript = parse_result(
            self._run(model, upload, task="transcribe", language=fields.language, prompt=fields.prompt),
            temperature=fields.temperature,
            language=fields.language,
        )
        _log(model, "transcribe", transcript.duration)
        return render(
            transcript, fields.response_format, task="transcribe", granularities=fields.timestamp_granularities
        )

    def translate(self, upload: AudioUpload, fields: TranslationCreateFields) -> Rendered:
        model = self._resolve(fields.model)
        properties = _audio_properties(model)
        if "task" not in properties and not model.name.endswith("-en"):
            raise e.InvalidRequestError(
                f"The model `{fields.model}` ({model.name}) cannot translate: use `whisper-1` or "
                "`@cf/openai/whisper-large-v3-turbo`.",
                param="model",
                code="model_not_supported",
            )
        result = self._run(model, upload, task="translate", language=None, prompt=fields.prompt)
        transcript = parse_result(result, temperature=fields.temperature, language="en")
        _log(model, "translate", transcript.duration)
        return render(transcript, fields.response_format, task="translate")

    # -- upstream ------------------------------------------------------------------------------
    def _resolve(self, requested: str) -> ResolvedModel:
        try:
            model = self.models.resolve(requested, task=SPEECH_RECOGNITION)
        except e.NotFoundError as exc:
            # OpenAI answers an unknown audio model with a 400 naming `model`.
            raise e.InvalidRequestError(exc.message, param="model", code="model_not_found") from exc
        if _audio_kind(model) is None:
            raise e.InvalidRequestError(
                f"The model `{requested}` ({model.name}) is not a Whisper model; audio routes use Whisper "
                "(`whisper-1`, `@cf/openai/whisper-large-v3-turbo`, `@cf/openai/whisper`).",
                param="model",
                code="model_not_supported",
            )
        return model

    def _run(
        self, model: ResolvedModel, upload: AudioUpload, *, task: Task, language: str | None, prompt: str | None
    ) -> Any:
        properties = _audio_properties(model)
        if _audio_kind(model) == "base64":
            payload: dict[str, Any] = {"audio": base64.b64encode(upload.data).decode("ascii")}
            if "task" in properties:
                payload["task"] = task
            if language and "language" in properties:
                payload["language"] = language.lower()
            if prompt and "initial_prompt" in properties:
                payload["initial_prompt"] = prompt
        else:
            # The older Whisper models take no options: `language` and `prompt` cannot reach them.
            payload = {"audio": list(upload.data)}
        return self.client.run(model.name, payload)


def _audio_properties(model: ResolvedModel) -> dict[str, Any]:
    schema = model.info.input_schema or {}
    for branch in [schema, *(schema.get("oneOf") or [])]:
        if isinstance(branch, dict) and isinstance((branch.get("properties") or {}).get("audio"), dict):
            properties: dict[str, Any] = branch["properties"]
            return properties
    return {}


def _audio_kind(model: ResolvedModel) -> Literal["base64", "bytes"] | None:
    audio = _audio_properties(model).get("audio") or {}
    if audio.get("type") == "string":
        return "base64"
    if audio.get("type") == "array":
        return "bytes"
    return None


def _refuse_unsupported(fields: TranscriptionCreateFields) -> None:
    if fields.stream:
        raise e.InvalidRequestError(
            "Streaming transcriptions are not supported: Whisper on Workers AI answers once.",
            param="stream",
            code="unsupported_value",
        )
    if fields.include:
        raise e.InvalidRequestError(
            "`include[]=logprobs` is not supported: Whisper on Workers AI returns no token logprobs.",
            param="include",
            code="unsupported_value",
        )
    if fields.chunking_strategy not in (None, "auto"):
        raise e.InvalidRequestError(
            "Only `chunking_strategy=auto` is supported.", param="chunking_strategy", code="unsupported_value"
        )
    if fields.timestamp_granularities and fields.response_format != "verbose_json":
        raise e.InvalidRequestError(
            "`timestamp_granularities[]` needs `response_format=verbose_json`.",
            param="timestamp_granularities",
            code="invalid_value",
        )


def _log(model: ResolvedModel, task: str, duration: float) -> None:
    logger.info("audio", extra={"model": model.name, "task": task, "audio_seconds": round(duration, 3)})
