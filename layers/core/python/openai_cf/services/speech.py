"""Speech (`POST /v1/audio/speech`) on Workers AI's text-to-speech models.

Deepgram Aura (`tts-1`, `tts-1-hd` → aura-2-en by default; aura-1) takes a `speaker` and an output
`encoding`/`container`, so every OpenAI `response_format` has an upstream equivalent and the bytes
are streamed to the client as they arrive. MeloTTS has one voice and produces only MP3. OpenAI's
voices map to upstream speakers of a similar character (docs/audio.md); an upstream speaker's own
name is accepted too. Nothing here pretends: `speed`, `instructions`, custom voices and SSE output
have no upstream equivalent and are refused with a 400 naming the parameter.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from openai_cf import errors as e
from openai_cf.schemas.audio import SpeechCreateParams
from openai_cf.services.models import ModelRegistry, ResolvedModel
from openai_cf.workers_ai.client import BinaryStream, WorkersAIClient

logger = logging.getLogger(__name__)

TEXT_TO_SPEECH = "Text-to-Speech"

OPENAI_VOICES = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse", "marin", "cedar",
)  # fmt: skip
# Chosen by character (pitch, accent, warmth) from Deepgram's speaker notes.
AURA_2_VOICES: dict[str, str] = {
    "alloy": "asteria", "ash": "arcas", "ballad": "orpheus", "coral": "cora", "echo": "orion", "fable": "draco",
    "onyx": "zeus", "nova": "luna", "sage": "athena", "shimmer": "aurora", "verse": "apollo", "marin": "thalia",
    "cedar": "atlas",
}  # fmt: skip
AURA_1_VOICES: dict[str, str] = {
    "alloy": "asteria", "ash": "arcas", "ballad": "orpheus", "coral": "stella", "echo": "orion", "fable": "helios",
    "onyx": "zeus", "nova": "luna", "sage": "athena", "shimmer": "hera", "verse": "perseus", "marin": "stella",
    "cedar": "angus",
}  # fmt: skip

# OpenAI format → Aura's encoding options, and the Content-Type we answer with.
AURA_FORMATS: dict[str, tuple[dict[str, Any], str]] = {
    "mp3": ({"encoding": "mp3"}, "audio/mpeg"),
    "opus": ({"encoding": "opus", "container": "ogg"}, "audio/ogg"),
    "aac": ({"encoding": "aac"}, "audio/aac"),
    "flac": ({"encoding": "flac"}, "audio/flac"),
    "wav": ({"encoding": "linear16", "container": "wav"}, "audio/wav"),
    # OpenAI's pcm: raw 24 kHz 16-bit little-endian samples.
    "pcm": ({"encoding": "linear16", "container": "none", "sample_rate": 24000}, "audio/pcm"),
}


@dataclass(frozen=True)
class SpeechAudio:
    chunks: Iterable[bytes]
    content_type: str


def _properties(model: ResolvedModel) -> dict[str, Any]:
    properties = (model.info.input_schema or {}).get("properties")
    return properties if isinstance(properties, dict) else {}


class SpeechService:
    def __init__(self, client: WorkersAIClient, models: ModelRegistry) -> None:
        self.client = client
        self.models = models

    def create(self, params: SpeechCreateParams) -> SpeechAudio:
        _refuse_unsupported(params)
        model = self._resolve(params.model)
        properties = _properties(model)
        if "speaker" in properties or "encoding" in properties:
            return self._aura(model, properties, params)
        if "prompt" in properties:
            return self._melotts(model, params)
        raise e.InvalidRequestError(
            f"The model `{params.model}` ({model.name}) is not supported for speech.",
            param="model",
            code="model_not_supported",
        )

    def _resolve(self, requested: str) -> ResolvedModel:
        try:
            return self.models.resolve(requested, task=TEXT_TO_SPEECH)
        except e.NotFoundError as exc:
            raise e.InvalidRequestError(exc.message, param="model", code="model_not_found") from exc

    def _aura(self, model: ResolvedModel, properties: dict[str, Any], params: SpeechCreateParams) -> SpeechAudio:
        options, content_type = AURA_FORMATS[params.response_format]
        payload = {"text": params.input, "speaker": _speaker(model, properties, params.voice), **options}
        _log(model, params)
        answer = self.client.open_binary(model.name, payload)
        if isinstance(answer, BinaryStream):
            return SpeechAudio(answer, content_type)
        return SpeechAudio([_base64_audio(answer)], content_type)

    def _melotts(self, model: ResolvedModel, params: SpeechCreateParams) -> SpeechAudio:
        if params.response_format != "mp3":
            raise e.InvalidRequestError(
                f"The model `{params.model}` ({model.name}) produces only mp3; set `response_format` to `mp3` "
                "or use an Aura model (`tts-1`).",
                param="response_format",
                code="unsupported_value",
            )
        if not isinstance(params.voice, str) or params.voice not in OPENAI_VOICES:
            raise _unknown_voice(params.voice, OPENAI_VOICES)
        _log(model, params)
        answer = self.client.open_binary(model.name, {"prompt": params.input, "lang": "en"})
        if isinstance(answer, BinaryStream):
            return SpeechAudio(answer, "audio/mpeg")
        return SpeechAudio([_base64_audio(answer)], "audio/mpeg")


def _speaker(model: ResolvedModel, properties: dict[str, Any], voice: str | dict[str, Any]) -> str:
    raw = properties.get("speaker")
    schema: dict[str, Any] = raw if isinstance(raw, dict) else {}
    speakers = [s for s in schema.get("enum") or [] if isinstance(s, str)]
    default = str(schema.get("default") or (speakers[0] if speakers else "luna"))
    name = voice.lower() if isinstance(voice, str) else ""
    if name in speakers:
        return name
    if name in OPENAI_VOICES:
        table = AURA_1_VOICES if model.name.endswith("aura-1") else AURA_2_VOICES
        mapped = table[name]
        return mapped if not speakers or mapped in speakers else default
    raise _unknown_voice(voice, (*OPENAI_VOICES, *speakers))


def _unknown_voice(voice: str | dict[str, Any], known: tuple[str, ...]) -> e.InvalidRequestError:
    if isinstance(voice, dict):
        return e.InvalidRequestError(
            "Custom voices are not supported; use a built-in voice.", param="voice", code="unsupported_value"
        )
    return e.InvalidRequestError(
        f"Unknown voice `{voice[:64]}`. Supported voices: {', '.join(known)}.", param="voice", code="invalid_value"
    )


def _base64_audio(result: Any) -> bytes:
    audio = result.get("audio") if isinstance(result, dict) else None
    if not isinstance(audio, str):
        raise e.BadGatewayError("Workers AI answered a speech request without audio.")
    try:
        return base64.b64decode(audio, validate=True)
    except ValueError as exc:
        raise e.BadGatewayError("Workers AI answered a speech request with audio that is not base64.") from exc


def _refuse_unsupported(params: SpeechCreateParams) -> None:
    if params.speed != 1.0:
        raise e.InvalidRequestError(
            "`speed` other than 1.0 is not supported: Workers AI's speech models have no speed control.",
            param="speed",
            code="unsupported_value",
        )
    if params.instructions:
        raise e.InvalidRequestError(
            "`instructions` is not supported: Workers AI's speech models take no voice instructions.",
            param="instructions",
            code="unsupported_value",
        )
    if params.stream_format != "audio":
        raise e.InvalidRequestError(
            "Only `stream_format=audio` is supported: the audio bytes are streamed as they are made.",
            param="stream_format",
            code="unsupported_value",
        )


def _log(model: ResolvedModel, params: SpeechCreateParams) -> None:
    logger.info(
        "speech", extra={"model": model.name, "characters": len(params.input), "format": params.response_format}
    )
