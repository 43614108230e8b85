"""Workers AI Whisper outputs → one `Transcript`, and a `Transcript` → each OpenAI response format.

Two upstream shapes exist: whisper-large-v3-turbo reports `transcription_info` (language,
duration) and `segments` with Whisper's decoding statistics and per-word times; `@cf/openai/whisper`
and `whisper-tiny-en` report only `text` and `words`. Where Workers AI lacks a field we fill it
the same way every time (docs/audio.md): `tokens` is `[]` (no token ids are returned), `seek` is
the segment's start in Whisper's 10 ms frames, and statistics the model does not report are 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from openai_cf.errors import BadGatewayError
from openai_cf.schemas.audio import (
    DurationUsage,
    Transcription,
    TranscriptionFormat,
    TranscriptionSegment,
    TranscriptionVerbose,
    TranscriptionWord,
    Translation,
)
from openai_cf.services.audio_languages import language_name

# Whisper ends a segment at a sentence end; the older models give only words, so we split there.
_SENTENCE_END = (".", "?", "!", "\u3002", "\uff1f", "\uff01")  # and the CJK full stops
_MAX_SEGMENT_WORDS = 30

TEXT_TYPES: dict[str, str] = {
    "text": "text/plain; charset=utf-8",
    "srt": "text/srt; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str | None
    duration: float
    segments: list[TranscriptionSegment]
    words: list[TranscriptionWord]


def _number(value: Any, default: float = 0.0) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _words(items: Any) -> list[TranscriptionWord]:
    words = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("word"), str):
            words.append(
                TranscriptionWord(
                    word=item["word"].strip(), start=_number(item.get("start")), end=_number(item.get("end"))
                )
            )
    return words


def _segment(
    index: int, start: float, end: float, text: str, temperature: float, stats: dict[str, Any]
) -> TranscriptionSegment:
    return TranscriptionSegment(
        id=index, seek=round(start * 100), start=start, end=end, text=text, tokens=[],
        temperature=_number(stats.get("temperature"), temperature),
        avg_logprob=_number(stats.get("avg_logprob")),
        compression_ratio=_number(stats.get("compression_ratio")),
        no_speech_prob=_number(stats.get("no_speech_prob")),
    )  # fmt: skip


def _segments_from_words(words: list[TranscriptionWord], temperature: float) -> list[TranscriptionSegment]:
    segments: list[TranscriptionSegment] = []
    current: list[TranscriptionWord] = []
    for word in words:
        current.append(word)
        if word.word.endswith(_SENTENCE_END) or len(current) >= _MAX_SEGMENT_WORDS:
            text = " " + " ".join(w.word for w in current)
            segments.append(_segment(len(segments), current[0].start, current[-1].end, text, temperature, {}))
            current = []
    if current:
        text = " " + " ".join(w.word for w in current)
        segments.append(_segment(len(segments), current[0].start, current[-1].end, text, temperature, {}))
    return segments


def parse_result(result: Any, *, temperature: float, language: str | None) -> Transcript:
    """`language`: what the client said the audio is in, used when the model reports none."""
    if not isinstance(result, dict) or not isinstance(result.get("text"), str):
        raise BadGatewayError("Workers AI answered a transcription request without `text`.")
    raw_info = result.get("transcription_info")
    info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
    raw_segments = result.get("segments")
    if isinstance(raw_segments, list):
        segments: list[TranscriptionSegment] = []
        words: list[TranscriptionWord] = []
        for item in raw_segments:
            if not isinstance(item, dict):
                continue
            start, end = _number(item.get("start")), _number(item.get("end"))
            text = str(item.get("text") or "")
            segments.append(_segment(len(segments), start, end, text, temperature, item))
            words.extend(_words(item.get("words")))
    else:
        words = _words(result.get("words"))
        segments = _segments_from_words(words, temperature)
    ends = [s.end for s in segments] + [w.end for w in words]
    duration = _number(info.get("duration"), max(ends, default=0.0))
    reported = info.get("language") if isinstance(info.get("language"), str) else None
    return Transcript(
        text=result["text"].strip(), language=reported or language, duration=duration, segments=segments, words=words
    )


# -- rendering ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rendered:
    """A model for JSON answers, or a plain-text body with its content type."""

    model: BaseModel | None = None
    body: str = ""
    content_type: str = ""


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _cues(transcript: Transcript) -> list[tuple[float, float, str]]:
    if transcript.segments:
        return [(s.start, s.end, s.text.strip()) for s in transcript.segments if s.text.strip()]
    return [(0.0, transcript.duration, transcript.text)] if transcript.text else []


def to_srt(transcript: Transcript) -> str:
    blocks = [
        f"{i}\n{_clock(start, ',')} --> {_clock(end, ',')}\n{text}\n"
        for i, (start, end, text) in enumerate(_cues(transcript), start=1)
    ]
    return "\n".join(blocks)


def to_vtt(transcript: Transcript) -> str:
    blocks = [f"{_clock(start, '.')} --> {_clock(end, '.')}\n{text}\n" for start, end, text in _cues(transcript)]
    return "WEBVTT\n\n" + "\n".join(blocks)


def render(
    transcript: Transcript,
    response_format: TranscriptionFormat,
    *,
    task: str,
    granularities: Sequence[str] | None = None,
) -> Rendered:
    if response_format == "text":
        return Rendered(body=transcript.text + "\n", content_type=TEXT_TYPES["text"])
    if response_format == "srt":
        return Rendered(body=to_srt(transcript), content_type=TEXT_TYPES["srt"])
    if response_format == "vtt":
        return Rendered(body=to_vtt(transcript), content_type=TEXT_TYPES["vtt"])
    usage = DurationUsage(seconds=round(transcript.duration, 3))
    if response_format == "json":
        if task == "translate":
            return Rendered(model=Translation(text=transcript.text))
        return Rendered(model=Transcription(text=transcript.text, usage=usage))
    wanted = granularities or ["segment"]
    language = "english" if task == "translate" else language_name(transcript.language or "unknown")
    return Rendered(
        model=TranscriptionVerbose(
            task="translate" if task == "translate" else "transcribe",
            language=language,
            duration=transcript.duration,
            text=transcript.text,
            segments=transcript.segments if "segment" in wanted else None,
            words=transcript.words if "word" in wanted and task != "translate" else None,
            usage=usage if task != "translate" else None,
        )
    )
