"""Audio wire models (openai-python `types/audio/*`): transcriptions, translations, speech."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from openai_cf.schemas import limits as lim
from openai_cf.schemas.common import RequestModel, omitted

TranscriptionFormat = Literal["json", "text", "srt", "verbose_json", "vtt"]
Granularity = Literal["word", "segment"]
SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]

# OpenAI's limit on `input` (CreateSpeechRequest.input.maxLength).
MAX_SPEECH_INPUT = 4096
# Whisper reads at most 224 prompt tokens; 4096 characters is far beyond that and still bounded.
MAX_PROMPT = 4096


class TranslationCreateFields(RequestModel):
    """The text fields of `POST /v1/audio/translations` (the `file` part is read separately)."""

    model: lim.ModelName
    prompt: str | None = Field(default=None, max_length=MAX_PROMPT)
    response_format: TranscriptionFormat = "json"
    temperature: float = Field(default=0.0, ge=0.0, le=1.0)


class TranscriptionCreateFields(TranslationCreateFields):
    """The text fields of `POST /v1/audio/transcriptions`; arrays arrive as `name[]` parts."""

    # ISO-639-1 (`en`), or the 3-letter codes Whisper knows (`haw`, `yue`).
    language: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}$")
    timestamp_granularities: list[Granularity] | None = None
    # Accepted only at their defaults: Workers AI's Whisper has no streaming, logprobs or chunking.
    stream: bool | None = None
    include: list[Literal["logprobs"]] | None = None
    chunking_strategy: Any = None

    @field_validator("timestamp_granularities", "include", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class TranscriptionWord(BaseModel):
    word: str
    start: float
    end: float


class TranscriptionSegment(BaseModel):
    id: int
    seek: int
    start: float
    end: float
    text: str
    tokens: list[int]
    temperature: float
    avg_logprob: float
    compression_ratio: float
    no_speech_prob: float


class DurationUsage(BaseModel):
    type: Literal["duration"] = "duration"
    seconds: float


class Transcription(BaseModel):
    text: str
    usage: DurationUsage | None = omitted()


class TranscriptionVerbose(BaseModel):
    # OpenAI's own answers carry `task`; its spec does not list it, and clients ignore it.
    task: Literal["transcribe", "translate"] = "transcribe"
    language: str
    duration: float
    text: str
    words: list[TranscriptionWord] | None = omitted()
    segments: list[TranscriptionSegment] | None = omitted()
    usage: DurationUsage | None = omitted()


class Translation(BaseModel):
    text: str


class SpeechCreateParams(RequestModel):
    model: lim.ModelName
    input: str = Field(min_length=1, max_length=MAX_SPEECH_INPUT)
    # A built-in OpenAI voice, an upstream speaker name, or `{"id": "voice_…"}` (refused: no custom voices).
    voice: str | dict[str, Any]
    instructions: str | None = Field(default=None, max_length=MAX_SPEECH_INPUT)
    response_format: SpeechFormat = "mp3"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    stream_format: Literal["audio", "sse"] = "audio"
